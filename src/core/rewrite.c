/*
 * rewrite.c: the Connection: close rewrite (see rewrite.h).
 */
#include "rewrite.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include "engine.h"
#include "http1.h"
#include "log.h"
#include "retry.h"
#include "sys.h"

/* Larger header sections are left alone. */
#define REWRITE_HEADERS_MAX 8192
/* How long a non-blocking socket may keep us waiting to take a request. */
#define REWRITE_SEND_WAIT_MS 2000

/* Sends all of p; *sent says how much went.  A request's headers go out
 * at its start, when the socket's buffer is empty, so they fit at once;
 * should a non-blocking socket still refuse some, we wait for it a little
 * (poll), since the program must be told all its bytes went or none.  A
 * socket that takes nothing at all (its connect still under way) fails
 * with EAGAIN at once unless `started`: the program may be told so. */
static bool send_all(int fd, const char *p, size_t len, int flags, bool started, size_t *sent)
{
	int waited_ms = 0;

	*sent = 0;
	while (len > 0) {
		ssize_t n = sys.send(fd, p, len, flags | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    (started || *sent > 0) && waited_ms < REWRITE_SEND_WAIT_MS) {
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
static bool rewritable(struct conn_ref ref, const struct io_call *call)
{
	struct conn *c = ref.conn;
	bool ok;

	if (!engine_config()->rewrite || (call->kind != IO_WRITE && call->kind != IO_SEND) ||
	    (call->flags & MSG_OOB) || !conn_ref_lock(ref))
		return false;
	ok = c->state == CONN_MANAGED && !c->exchange_open && !c->broken && !c->shared &&
	     c->http.protocol != HTTP1_NOT_HTTP && !c->http.unusable;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

bool rewrite_send(struct conn_ref ref, const struct io_call *call, ssize_t *result)
{
	char headers[REWRITE_HEADERS_MAX + 64];
	size_t header_len, n;
	const char *data = call->buf;

	if (ref.conn == NULL || call->len < 16 || !rewritable(ref, call))
		return false;
	n = http1_rewrite_keep_alive(data, call->len < REWRITE_HEADERS_MAX ? call->len : REWRITE_HEADERS_MAX,
				     headers, sizeof(headers), &header_len);
	if (n == 0)
		return false;
	for (;;) {
		size_t sent, body_sent;
		int err;

		if (send_all(call->fd, headers, n, call->flags, false, &sent) &&
		    send_all(call->fd, data + header_len, call->len - header_len, call->flags,
			     true, &body_sent))
			break;
		err = errno;
		if (sent == 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
			*result = -1;	/* nothing sent: the program tries later */
			return true;
		}
		/* Nothing went out because the connect failed: a new
		 * connection may take its place (retry.h). */
		if (sent == 0 && retry_call_after_failed_connect(ref, call, err))
			continue;

		/* Where a real write would have stopped cannot be told: the
		 * program gets the error, and the connection is not pooled. */
		conn_note_broken(ref);
		errno = err;
		*result = -1;
		return true;
	}
	/* The tracker follows what the server got. */
	conn_note_sent(ref, headers, (ssize_t)n);
	conn_note_sent(ref, data + header_len, (ssize_t)(call->len - header_len));
	conn_note_rewritten(ref);
	log_debug("fd %d: request rewritten to keep the connection", call->fd);
	*result = (ssize_t)call->len;
	return true;
}

void rewrite_after_receive(struct conn_ref ref, int fd)
{
	if (ref.conn == NULL || !__atomic_load_n(&ref.conn->rewritten, __ATOMIC_RELAXED))
		return;
	engine_end_rewritten(fd, ref);
}
