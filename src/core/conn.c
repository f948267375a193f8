/*
 * conn.c: per-socket state, its recycling, and the notes hooks make about
 * the program's I/O.  See conn.h for the lifetime rule.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/stats_writer.h"
#include "fdtab.h"
#include "sys.h"

static pthread_mutex_t free_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *free_list;

struct conn *conn_acquire(void)
{
	struct conn *c;

	pthread_mutex_lock(&free_list_lock);
	c = free_list;
	if (c != NULL)
		free_list = c->next_free;
	pthread_mutex_unlock(&free_list_lock);
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return NULL;
		pthread_mutex_init(&c->lock, NULL);
	}
	pthread_mutex_lock(&c->lock);
	c->state = CONN_CANDIDATE;
	c->reused = c->shared = c->broken = false;
	c->sndbuf = c->rcvbuf = -1;
	memset(&c->dest, 0, sizeof(c->dest));
	c->stats = NULL;
	http1_init(&c->http);
	pthread_mutex_unlock(&c->lock);
	return c;
}

void conn_release(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->generation, c->generation + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&free_list_lock);
	c->next_free = free_list;
	free_list = c;
	pthread_mutex_unlock(&free_list_lock);
}

void conn_reset_after_fork(void)
{
	pthread_mutex_init(&free_list_lock, NULL);
	free_list = NULL;
}

void conn_adopt_after_fork(struct conn *c)
{
	pthread_mutex_init(&c->lock, NULL);
	c->shared = true;
	c->stats = NULL;
}

struct conn_ref conn_ref_of_fd(int fd)
{
	struct conn_ref ref = { fdtab_get(fd), 0 };

	if (ref.conn == NULL)
		return ref;
	ref.generation = __atomic_load_n(&ref.conn->generation, __ATOMIC_ACQUIRE);
	/* Still fd's conn after reading the generation: the pair is valid. */
	if (fdtab_get(fd) != ref.conn)
		ref.conn = NULL;
	return ref;
}

bool conn_ref_lock(struct conn_ref ref)
{
	if (ref.conn == NULL)
		return false;
	pthread_mutex_lock(&ref.conn->lock);
	if (ref.conn->generation == ref.generation)
		return true;
	pthread_mutex_unlock(&ref.conn->lock);
	return false;
}

static bool io_error_is_transient(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* Feeds bytes the program sent; counts requests as they begin. */
static void note_request_bytes(struct conn *c, const void *buf, size_t len)
{
	uint32_t before = c->http.requests_started;

	http1_feed_request(&c->http, buf, len);
	if (c->http.requests_started != before)
		stats_count(c->stats, SP_REQUESTS, c->http.requests_started - before);
}

/* Result of a send-like call: bytes to note, or a failure to record. */
static bool note_send_result(struct conn *c, ssize_t result, int err)
{
	if (result >= 0)
		return true;
	if (!io_error_is_transient(err))
		c->broken = true;
	return false;
}

void conn_note_sent(struct conn_ref ref, const void *buf, ssize_t result)
{
	int saved_errno = errno;

	if (!conn_ref_lock(ref))
		return;
	if (ref.conn->state == CONN_MANAGED && note_send_result(ref.conn, result, saved_errno))
		note_request_bytes(ref.conn, buf, (size_t)result);
	pthread_mutex_unlock(&ref.conn->lock);
	errno = saved_errno;
}

void conn_note_sent_iov(struct conn_ref ref, const struct iovec *iov, int iovcnt,
			ssize_t result)
{
	int saved_errno = errno;

	if (!conn_ref_lock(ref))
		return;
	if (ref.conn->state == CONN_MANAGED && note_send_result(ref.conn, result, saved_errno)) {
		size_t left = (size_t)result;

		for (int i = 0; i < iovcnt && left > 0; i++) {
			size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

			note_request_bytes(ref.conn, iov[i].iov_base, n);
			left -= n;
		}
	}
	pthread_mutex_unlock(&ref.conn->lock);
	errno = saved_errno;
}

/* Result of a receive-like call: true when there are bytes to feed. */
static bool note_receive_result(struct conn *c, ssize_t result, int err)
{
	if (result > 0)
		return true;
	if (result == 0)
		http1_response_eof(&c->http);
	else if (!io_error_is_transient(err))
		c->broken = true;
	return false;
}

void conn_note_received(struct conn_ref ref, const void *buf, ssize_t result)
{
	int saved_errno = errno;

	if (!conn_ref_lock(ref))
		return;
	if (ref.conn->state == CONN_MANAGED && note_receive_result(ref.conn, result, saved_errno))
		http1_feed_response(&ref.conn->http, buf, (size_t)result);
	pthread_mutex_unlock(&ref.conn->lock);
	errno = saved_errno;
}

void conn_note_received_iov(struct conn_ref ref, const struct iovec *iov,
			    int iovcnt, ssize_t result)
{
	int saved_errno = errno;

	if (!conn_ref_lock(ref))
		return;
	if (ref.conn->state == CONN_MANAGED && note_receive_result(ref.conn, result, saved_errno)) {
		size_t left = (size_t)result;

		for (int i = 0; i < iovcnt && left > 0; i++) {
			size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

			http1_feed_response(&ref.conn->http, iov[i].iov_base, n);
			left -= n;
		}
	}
	pthread_mutex_unlock(&ref.conn->lock);
	errno = saved_errno;
}

void conn_note_broken(struct conn_ref ref)
{
	if (!conn_ref_lock(ref))
		return;
	ref.conn->broken = true;
	pthread_mutex_unlock(&ref.conn->lock);
}

void conn_note_shared(struct conn_ref ref)
{
	if (!conn_ref_lock(ref))
		return;
	ref.conn->shared = true;
	pthread_mutex_unlock(&ref.conn->lock);
}

const char *conn_unpoolable_reason(const struct conn *c)
{
	const struct http1_tracker *t = &c->http;

	if (c->state != CONN_MANAGED)
		return "not connected";
	if (c->shared)
		return "the fd was duplicated";
	if (c->broken)
		return "an error, a shutdown or a call sockpool cannot follow";
	if (t->protocol == HTTP1_NOT_HTTP)
		return "not HTTP/1.x";
	if (t->protocol == HTTP1_UNDECIDED)
		return "no complete request was sent";
	if (t->unusable)
		return "upgrade, CONNECT, EOF or unparsable HTTP";
	if (t->requests_started != t->requests_done || t->responses_done != t->requests_done ||
	    t->response_in_message)
		return "a request or response is incomplete";
	if (!t->request_keep_alive)
		return "the program asked the server to close";
	if (!t->response_keep_alive)
		return "the server announced it closes";
	if (t->keep_alive_max == 0)
		return "the server allows no more requests";
	return NULL;
}

/* Options a program sets on a client socket that live in the socket, not
 * in the connection; copied value for value from the program's socket. */
static const struct { int level, name; socklen_t len; } carried_options[] = {
	{ SOL_SOCKET, SO_KEEPALIVE, sizeof(int) },
	{ SOL_SOCKET, SO_RCVTIMEO, sizeof(struct timeval) },
	{ SOL_SOCKET, SO_SNDTIMEO, sizeof(struct timeval) },
	{ SOL_SOCKET, SO_LINGER, sizeof(struct linger) },
	{ SOL_SOCKET, SO_PRIORITY, sizeof(int) },
	{ SOL_SOCKET, SO_OOBINLINE, sizeof(int) },
	{ IPPROTO_TCP, TCP_NODELAY, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPIDLE, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPINTVL, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPCNT, sizeof(int) },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, sizeof(int) },
};

void conn_copy_socket_state(const struct conn *c, int from_fd, int to_fd)
{
	int saved_errno = errno;
	int from_flags, to_flags;

	for (size_t i = 0; i < sizeof(carried_options) / sizeof(carried_options[0]); i++) {
		char value[32];
		socklen_t len = carried_options[i].len;

		if (sys.getsockopt(from_fd, carried_options[i].level, carried_options[i].name,
				   value, &len) == 0)
			(void)sys.setsockopt(to_fd, carried_options[i].level,
					     carried_options[i].name, value, len);
	}
	/* Buffer sizes read back doubled by the kernel, so only the values
	 * the program itself asked for are carried. */
	if (c->sndbuf >= 0)
		(void)sys.setsockopt(to_fd, SOL_SOCKET, SO_SNDBUF, &c->sndbuf, sizeof(int));
	if (c->rcvbuf >= 0)
		(void)sys.setsockopt(to_fd, SOL_SOCKET, SO_RCVBUF, &c->rcvbuf, sizeof(int));
	from_flags = sys.fcntl(from_fd, F_GETFL);
	to_flags = sys.fcntl(to_fd, F_GETFL);
	if (from_flags >= 0 && to_flags >= 0)
		(void)sys.fcntl(to_fd, F_SETFL,
				(to_flags & ~O_NONBLOCK) | (from_flags & O_NONBLOCK));
	errno = saved_errno;
}
