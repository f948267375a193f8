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
 */
#ifndef SOCKPOOL_CORE_REWRITE_H
#define SOCKPOOL_CORE_REWRITE_H

#include <stdbool.h>
#include <sys/types.h>

#include "conn.h"
#include "io_call.h"

/* Sends call rewritten if it begins a request that asks to close; true
 * with *result set when it did, false when the call is to be made as is. */
bool rewrite_send(struct conn_ref ref, const struct io_call *call, ssize_t *result);

/* After a receive call that returned result: the response of a rewritten
 * exchange says "close" as the program asked (response_close.h), and once
 * it is complete the exchange ends (engine_end_rewritten). */
void rewrite_after_receive(struct conn_ref ref, const struct io_call *call, ssize_t result);

/* A receive with MSG_WAITALL on a rewritten exchange: served piecewise up
 * to the end of the response, which is the end of the stream the program
 * waits for; true with *result set when it was.  (recvmsg steps back
 * instead: the server is made to close.) */
bool rewrite_receive_waitall(struct conn_ref ref, const struct io_call *call, ssize_t *result);

#endif
