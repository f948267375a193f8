/*
 * retry.h: keeping the errors of the field away from the program, where
 * that is safe (DESIGN.md, "Retry rules").
 *
 *  - A connect that fails with ECONNREFUSED, ETIMEDOUT, EADDRNOTAVAIL,
 *    ENETUNREACH or EAGAIN is made again on a new socket, after a jittered
 *    exponential backoff (backoff.h), until SOCKPOOL_RETRIES attempts or
 *    SOCKPOOL_RETRY_DEADLINE_MS have passed, and never for longer than the
 *    program's own SO_SNDTIMEO.  Each new connect is made non-blocking and
 *    waited for with poll, so a server that drops SYNs cannot hold the
 *    program past that deadline either.  Every new connection, for any
 *    of the rules below too, comes from one place (open_connection).
 *    A refusal is retried only from a destination that has accepted a
 *    connection before in this process (pool.h, "answered"): there it is
 *    most likely a restart; from anywhere else it is the answer (nothing
 *    listens there) and reaches the program at once, which may have
 *    another address to try.  This holds for non-blocking connects too.
 *  - An exchange whose connection fails (reset, broken pipe, EOF) before
 *    the first byte of its response is sent again on a new connection
 *    when that is safe: nothing of it was sent yet, or it is idempotent
 *    and all its bytes were kept (conn_exchange_replayable).  Then the
 *    program's call is made again there, and the program never sees the
 *    failure.  Reused and new connections alike: a reset is as likely on
 *    a new connection to a server under load, and an idempotent request
 *    may be repeated (RFC 9110 9.2.2).
 *  - A non-idempotent request is not sent on a pooled connection that has
 *    been idle for half of what the server is known to allow (learned by
 *    the pool, announced with Keep-Alive, or at worst our own idle
 *    timeout): it gets a new connection, since once sent it is never sent
 *    again.
 *  - Every retry takes from the destination's budget (budget.h).
 *  - A non-blocking connect is retried where the program learns that it
 *    failed: getsockopt(SO_ERROR), connect() called again, or a data call.
 *    There sockpool connects again on private sockets, with the same
 *    pauses and deadline, waits for each outcome, and moves a socket onto
 *    the fd only once it is connected: the program is then told the truth
 *    (SO_ERROR 0, connect() 0, the call goes through), or, when every
 *    attempt failed, the first error.  Answering "connected" or "in
 *    progress" for a connect not yet made would break what programs build
 *    on the answer (falling back to the next address, port probes, their
 *    own connect timeouts), so the program's thread waits instead, as in
 *    a blocking connect, and only when its connect has failed.  A socket
 *    that did connect and timed out later is not retried (TCP_INFO tells
 *    the two apart), nor one shared with another fd.
 *  - Exchanges are replayed for blocking calls only: a non-blocking
 *    program gets a reset or broken pipe as it would have.
 *  - Managed sends use MSG_NOSIGNAL; an EPIPE that finally reaches the
 *    program comes with SIGPIPE, exactly as the real call would have
 *    raised it.
 */
#ifndef SOCKPOOL_CORE_RETRY_H
#define SOCKPOOL_CORE_RETRY_H

#include <stdbool.h>
#include <sys/socket.h>

#include "conn.h"
#include "engine_context.h"
#include "io_call.h"

/* How a data call failed, as recovery sees it. */
enum retry_failure {
	FAILURE_NONE,
	FAILURE_RESET,		/* ECONNRESET */
	FAILURE_EPIPE,		/* EPIPE */
	FAILURE_EOF,		/* end of file where a response was awaited */
	FAILURE_CONNECT,	/* a non-blocking connect's failure, learned late */
};

/* Whether a connect that failed with err may be tried again. */
bool retry_connect_error_is_retryable(int err);

/* Whether a connect to key that failed with err is tried again: a
 * retryable error, and for a refusal, a destination that has answered. */
bool retry_connect_worth_retrying(const struct engine_context *ctx, const struct dest_key *key,
				  int err);

/* The program's blocking connect on fd (c's socket) to key failed with
 * err: tries again on new sockets, moving the one that connects onto fd.
 * 0 on success; -1 with errno set to the last failure otherwise. */
int retry_connect(const struct engine_context *ctx, int fd, struct conn *c,
		  const struct dest_key *key, int err);

/* Whether err, from SO_ERROR or a call after a non-blocking connect, is
 * that connect's retryable failure. */
bool retry_connect_failed_late(int err);

/* Whether the TCP socket on fd failed before its handshake ever completed:
 * no round trip measured, no option agreed.  An established connection
 * that timed out later (keep-alive, TCP_USER_TIMEOUT) reports ETIMEDOUT
 * too, and is not a connect to try again. */
bool retry_handshake_never_completed(int fd);

/* c's non-blocking connect on fd failed with err, as the program's current
 * call has just learned: if the rules allow, connects again (waiting for
 * the outcome) and moves the connected socket onto fd with the program's
 * options and file status flags; true then.  false when the failure must
 * reach the program.  c->connecting is cleared either way.  Caller holds
 * c->lock. */
bool retry_pending_connect(const struct engine_context *ctx, int fd, struct conn *c, int err);

/* A data call failed with err, maybe a failed non-blocking connect that
 * the call has just learned of: true when a new connection stands under
 * the fd and the call may be made again. */
bool retry_call_after_failed_connect(const struct engine_context *ctx, struct conn_ref ref,
				     const struct io_call *call, int err);

/* What the call's outcome (result, and err when it is -1) means for
 * recovery. */
enum retry_failure retry_failure_of(const struct io_call *call, ssize_t result, int err);

/* The call failed with `why` (not FAILURE_CONNECT): replays the exchange
 * on a new connection under the fd where that is safe; true when the call
 * should be made again.  An error that will reach the program is counted
 * here. */
bool retry_recover(const struct engine_context *ctx, struct conn_ref ref,
		   const struct io_call *call, enum retry_failure why);

/* Before a call that begins a request: a non-idempotent request does not
 * go on a connection that has been idle long enough for the server to be
 * closing it; a new one takes its place under the fd (blocking calls
 * only). */
void retry_avoid_stale(const struct engine_context *ctx, struct conn_ref ref,
		       const struct io_call *call);

#endif
