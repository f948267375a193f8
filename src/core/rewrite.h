/*
 * rewrite.h: pooling programs that ask the server to close.
 *
 * urllib, ab, LWP, PHP and Node with agent:false send "Connection: close"
 * (or HTTP/1.0 without keep-alive) and read until the server closes.  With
 * SOCKPOOL_REWRITE on (the default), sockpool sends such a request with
 * the header rewritten to keep the connection (http1_rewrite_keep_alive),
 * and once the response is complete it parks the connection and puts a
 * socket that reads end-of-file (and polls readable) under the program's
 * fd, as if the server had closed it.
 *
 * Done when the request's whole header section is in one write() or
 * send(), blocking or not; anything else is left as the program sent it
 * (and is not pooled, as before).
 *
 * What sockpool commits to on the program's behalf, and the rule that
 * brings each back to where the program would have been without it:
 *  - The count a rewritten send returns: the program's header bytes once
 *    the rewritten head is all out (it goes whole or not at all), plus
 *    the body bytes one send took.  Never -1 after a byte went.
 *  - The server keeps the connection: the response head is made to say
 *    close (response_close.h), and the program reads end-of-file once it
 *    is complete (park_end_rewritten: an end-of-file socket under the
 *    fd with the connection parked, else a read shutdown of the real
 *    connection).
 *  - The response may be read out of sight (stdio, a dup, a child,
 *    SCM_RIGHTS, splice, recvmmsg, recvmsg with MSG_WAITALL): the exchange
 *    steps back, a half-close once the request is out (conn_step_back),
 *    and the server closes as asked.  recv(MSG_WAITALL) is served here.
 *  - A request whose bytes went out of sight (sendfile, splice, stdio) is
 *    never replayed nor pooled (conn_note_unseen_send).
 * Not reached: a request head rewritten, then its body written through a
 * stdio stream and the response read there too (nothing tells sockpool
 * when that request is out: the server's idle timeout ends it, as it
 * would a keep-alive request).
 */
#ifndef SOCKPOOL_CORE_REWRITE_H
#define SOCKPOOL_CORE_REWRITE_H

#include <stdbool.h>
#include <sys/types.h>

#include "conn.h"
#include "engine_context.h"
#include "io_call.h"

/* Sends call rewritten if it begins a request that asks to close; true
 * with *result set when it did, false when the call is to be made as is. */
bool rewrite_send(const struct engine_context *ctx, struct conn_ref ref,
		  const struct io_call *call, ssize_t *result);

/* After a receive call that returned result: the response of a rewritten
 * exchange says "close" as the program asked (response_close.h), and once
 * it is complete the exchange ends (park_end_rewritten). */
void rewrite_after_receive(const struct engine_context *ctx, struct conn_ref ref,
			   const struct io_call *call, ssize_t result);

/* Whether a receive with MSG_WAITALL on a rewritten exchange is to be
 * made piecewise (recv, recvfrom) up to the end of the response, which is
 * the end of the stream the program waits for (engine_io.c does it).  A
 * recvmsg steps back instead: the server is made to close. */
bool rewrite_waitall_piecewise(struct conn_ref ref, const struct io_call *call);

#endif
