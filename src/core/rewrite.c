/*
 * rewrite.c: the Connection: close rewrite (see rewrite.h).
 */
#include "rewrite.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include "config.h"
#include "http1.h"
#include "http1_rewrite.h"
#include "log.h"
#include "park.h"
#include "retry.h"
#include "sys.h"

/* Larger header sections are left alone. */
#define REWRITE_HEADERS_MAX 8192
/* How long a non-blocking socket may keep us waiting to take a request. */
#define REWRITE_SEND_WAIT_MS 2000

/* Sends all of the rewritten header section p; *sent says how much went.
 * It goes out at a request's start, when the socket's buffer is empty, so
 * it fits at once; should a non-blocking socket take only part of it, we
 * wait for the rest (poll), bounded: the program can be told that its
 * header bytes went or that none did, nothing in between.  A socket that
 * takes nothing at all (its connect still under way) fails with EAGAIN at
 * once: the program may be told so. */
static bool send_headers(int fd, const char *p, size_t len, int flags, size_t *sent)
{
	int waited_ms = 0;

	*sent = 0;
	while (len > 0) {
		ssize_t n = sys.send(fd, p, len, flags | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && *sent > 0 &&
		    waited_ms < REWRITE_SEND_WAIT_MS) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			(void)poll(&pfd, 1, 10);
			waited_ms += 10;
			continue;
		}
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
		*sent += (size_t)n;
	}
	return true;
}

/* Whether the call may be rewritten: a write or send that begins a
 * request on a managed connection. */
static bool rewritable(const struct engine_context *ctx, struct conn_ref ref,
		       const struct io_call *call)
{
	struct conn *c = ref.conn;
	bool ok;

	if (!ctx->cfg->rewrite || (call->kind != IO_WRITE && call->kind != IO_SEND) ||
	    (call->flags & MSG_OOB) || !conn_ref_lock(ref))
		return false;
	ok = conn_may_step_in(c) && !c->exchange_open;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

bool rewrite_send(const struct engine_context *ctx, struct conn_ref ref,
		  const struct io_call *call, ssize_t *result)
{
	char headers[REWRITE_HEADERS_MAX + 64];
	size_t header_len, n, sent;
	const char *data = call->buf;
	ssize_t body_sent = 0;
	int saved_errno = errno;

	if (ref.conn == NULL || call->len < 16 || !rewritable(ctx, ref, call))
		return false;
	n = http1_rewrite_keep_alive(data, call->len < REWRITE_HEADERS_MAX ? call->len : REWRITE_HEADERS_MAX,
				     headers, sizeof(headers), &header_len);
	if (n == 0)
		return false;
	while (!send_headers(call->fd, headers, n, call->flags, &sent)) {
		int err = errno;

		if (sent == 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
			*result = -1;	/* nothing sent: the program tries later */
			return true;
		}
		/* Nothing went out because the connect failed: a new
		 * connection may take its place (retry.h). */
		if (sent == 0 && retry_call_after_failed_connect(ctx, ref, call, err))
			continue;
		/* Nothing went, or a part of a header section that will never
		 * be whole: the connection is of no use to anyone, and the
		 * program is told so (a part may not be reported: it matches
		 * no count of the program's bytes). */
		conn_note_broken(ref);
		if (sent > 0) {
			(void)sys.shutdown(call->fd, SHUT_RDWR);
			err = EPIPE;
		}
		errno = err;
		*result = -1;
		return true;
	}
	/* The program's header bytes went.  The tracker follows what the
	 * server got; the response will need an end-of-file. */
	conn_note_sent(ref, headers, (ssize_t)n);
	conn_note_rewritten(ref);
	log_debug("fd %d: request rewritten to keep the connection", call->fd);
	/* The body: one send, as the program's own would have been (it
	 * blocks or not as the socket does); what it took is reported, and
	 * an error or a signal after the headers went is a short count, as
	 * the program's own send would have returned. */
	if (call->len > header_len) {
		body_sent = sys.send(call->fd, data + header_len, call->len - header_len,
				     call->flags | MSG_NOSIGNAL);
		if (body_sent > 0)
			conn_note_sent(ref, data + header_len, body_sent);
		else
			body_sent = 0;
	}
	*result = (ssize_t)header_len + body_sent;
	errno = saved_errno;
	return true;
}

/* Which bytes a receive call filled. */
static void received_bytes(const struct io_call *call, void **buf, const struct iovec **iov,
			   int *iovcnt)
{
	*buf = NULL;
	*iov = call->iov;
	*iovcnt = call->iovcnt;
	if (call->kind == IO_RECVMSG) {
		*iov = call->msg->msg_iov;
		*iovcnt = (int)call->msg->msg_iovlen;
	} else if (call->kind != IO_READV) {
		*buf = call->buf;
	}
}

void rewrite_after_receive(const struct engine_context *ctx, struct conn_ref ref,
			   const struct io_call *call, ssize_t result)
{
	const struct iovec *iov;
	void *buf;
	int iovcnt;

	if (ref.conn == NULL || !__atomic_load_n(&ref.conn->rewritten, __ATOMIC_RELAXED))
		return;
	received_bytes(call, &buf, &iov, &iovcnt);
	conn_echo_close(ref, buf, iov, iovcnt, result, call->flags & MSG_PEEK);
	if (!(call->flags & MSG_PEEK))
		park_end_rewritten(ctx, call->fd, ref);
}

bool rewrite_waitall_piecewise(struct conn_ref ref, const struct io_call *call)
{
	if (ref.conn == NULL || !(call->flags & MSG_WAITALL) || (call->flags & MSG_PEEK) ||
	    !__atomic_load_n(&ref.conn->rewritten, __ATOMIC_RELAXED))
		return false;
	if (call->kind == IO_RECVMSG) {
		/* Not served piecewise here: the server is made to close. */
		if (conn_ref_lock(ref)) {
			conn_step_back(ref.conn);
			pthread_mutex_unlock(&ref.conn->lock);
		}
		return false;
	}
	return call->kind == IO_RECV || call->kind == IO_RECVFROM;
}
