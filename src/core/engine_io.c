/*
 * engine_io.c: what happens on the program's read, write, send, recv and
 * the rest, on a socket sockpool manages (engine_io in engine.h).
 *
 * The hooks hand every data call on a managed fd here as an io_call.  In
 * order:
 *  1. a vfork child's call is made as it is, and the socket it touched
 *     leaves the pool's reach (the child is out of step with the conn);
 *  2. a call that begins a non-idempotent request may get a new
 *     connection first (retry_avoid_stale);
 *  3. a send that begins a request asking the server to close goes out
 *     rewritten (rewrite_send); a receive with MSG_WAITALL on such an
 *     exchange is made piecewise, up to the response's end;
 *  4. otherwise the call is made, and made again after recovery for as
 *     long as recovery says it may (retry.h);
 *  5. what moved is shown to the conn's tracker, the response of a
 *     rewritten exchange is made to say close and ended
 *     (rewrite_after_receive);
 *  6. an EPIPE that reaches the program brings SIGPIPE, as the real call
 *     would have.
 */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine.h"
#include "io_call.h"
#include "retry.h"
#include "rewrite.h"
#include "vfork_gate.h"

/* What the real call would have done on EPIPE: SIGPIPE to this thread. */
static void raise_sigpipe(void)
{
	int saved_errno = errno;

	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGPIPE);
	errno = saved_errno;
}

/* recv(MSG_WAITALL) on a rewritten exchange: the stream the program waits
 * to fill ends with the response, where the next piece is end-of-file. */
static ssize_t receive_piecewise(const struct io_call *call)
{
	struct io_call part = *call;
	size_t got = 0;

	part.flags &= ~MSG_WAITALL;
	while (got < call->len) {
		ssize_t n;

		part.buf = (char *)call->buf + got;
		part.len = call->len - got;
		n = engine_io(&part);
		if (n <= 0)
			return got > 0 ? (ssize_t)got : n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Makes the call, and again for as long as recovery allows. */
static ssize_t make_and_recover(const struct engine_context *ctx, struct conn_ref ref,
				const struct io_call *call, int *err)
{
	enum retry_failure why;
	ssize_t n;

	do {
		n = io_call_make(call);
		*err = errno;
		why = retry_failure_of(call, n, *err);
	} while (why != FAILURE_NONE && ref.conn != NULL &&
		 (why == FAILURE_CONNECT ? retry_call_after_failed_connect(ctx, ref, call, *err)
					 : retry_recover(ctx, ref, call, why)));
	return n;
}

ssize_t engine_io(struct io_call *call)
{
	const struct engine_context *ctx = engine_context();
	struct conn_ref ref = conn_ref_of_fd(call->fd);
	ssize_t n;
	int err;

	if (engine_in_vfork_child()) {
		conn_note_broken(ref);
		return io_call_pass(call);
	}
	/* Data calls on a socket not yet connected get a fresh socket's
	 * answer (ENOTCONN, EPIPE...). */
	engine_settle(call->fd);
	if (io_call_sends(call) && ref.conn != NULL)
		retry_avoid_stale(ctx, ref, call);
	if (io_call_sends(call) && rewrite_send(ctx, ref, call, &n)) {
		err = errno;	/* sent and recorded by rewrite.c */
	} else if (!io_call_sends(call) && rewrite_waitall_piecewise(ref, call)) {
		return receive_piecewise(call);
	} else {
		n = make_and_recover(ctx, ref, call, &err);
		if (n < 0 && err == ENOTSOCK &&
		    (call->kind == IO_WRITE || call->kind == IO_WRITEV)) {
			/* The number holds a file or pipe now: the socket was
			 * closed where no hook saw it (inside glibc) and the
			 * number reused the same way.  Forget it and write as
			 * the program asked. */
			engine_fd_reused(call->fd);
			return io_call_pass(call);
		}
		errno = err;
		io_call_note(ref, call, n);
		if (!io_call_sends(call))
			rewrite_after_receive(ctx, ref, call, n);
	}
	if (n < 0 && err == EPIPE && io_call_sends(call) && !(call->flags & MSG_NOSIGNAL))
		raise_sigpipe();
	errno = err;
	return n;
}
