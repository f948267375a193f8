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
	c->options_set = 0;
	c->dev = 0;
	c->inode = 0;
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
 * in the connection; bit i of a notes mask stands for carried_options[i]. */
static const struct carried_option {
	int level, name;
	socklen_t len;
} carried_options[] = {
	{ SOL_SOCKET, SO_KEEPALIVE, sizeof(int) },
	{ SOL_SOCKET, SO_RCVTIMEO, sizeof(struct timeval) },
	{ SOL_SOCKET, SO_SNDTIMEO, sizeof(struct timeval) },
	{ SOL_SOCKET, SO_LINGER, sizeof(struct linger) },
	{ SOL_SOCKET, SO_PRIORITY, sizeof(int) },
	{ SOL_SOCKET, SO_OOBINLINE, sizeof(int) },
	{ SOL_SOCKET, SO_MARK, sizeof(int) },
	{ SOL_SOCKET, SO_SNDBUF, sizeof(int) },
	{ SOL_SOCKET, SO_RCVBUF, sizeof(int) },
	{ IPPROTO_TCP, TCP_NODELAY, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPIDLE, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPINTVL, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPCNT, sizeof(int) },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, sizeof(int) },
	{ IPPROTO_IP, IP_TOS, sizeof(int) },
	{ IPPROTO_IPV6, IPV6_TCLASS, sizeof(int) },
};
#define NCARRIED (sizeof(carried_options) / sizeof(carried_options[0]))
_Static_assert(NCARRIED <= CONN_CARRIED_MAX && CONN_CARRIED_MAX < 31,
	       "one notes bit per option, below CONN_NOTE_NONBLOCK");

/* Options with no lasting effect on a client connection: TCP_QUICKACK is
 * momentary; address reuse only matters to bind(), which already makes a
 * socket unpoolable. */
static bool option_is_harmless(int level, int name)
{
	return (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_REUSEPORT)) ||
	       (level == IPPROTO_TCP && name == TCP_QUICKACK);
}

static int carried_option_index(int level, int name)
{
	for (size_t i = 0; i < NCARRIED; i++)
		if (carried_options[i].level == level && carried_options[i].name == name)
			return (int)i;
	return -1;
}

void conn_note_option_set(struct conn_ref ref, int level, int name,
			  const void *value, socklen_t len)
{
	int saved_errno = errno;
	int i = carried_option_index(level, name);

	if (i < 0 && option_is_harmless(level, name))
		return;
	if (!conn_ref_lock(ref))
		return;
	if (i < 0 || len > CONN_OPTION_VALUE_MAX) {
		ref.conn->broken = true;
	} else {
		/* The value as given, to be set again as it was: some read back
		 * otherwise (buffer sizes come back doubled). */
		ref.conn->options_set |= 1u << i;
		ref.conn->options[i].len = (uint8_t)len;
		memcpy(ref.conn->options[i].value, value, len);
	}
	pthread_mutex_unlock(&ref.conn->lock);
	errno = saved_errno;
}

uint32_t conn_socket_notes(const struct conn *c, int fd)
{
	int saved_errno = errno;
	int flags = sys.fcntl(fd, F_GETFL);

	errno = saved_errno;
	return c->options_set | (flags >= 0 && (flags & O_NONBLOCK) ? CONN_NOTE_NONBLOCK : 0);
}

/* Reads option i of the program's new socket into c: the value to reset
 * it to on a pooled socket that had it set.  A buffer size reads back
 * doubled, so half is set.  (Setting it locks the size against autotuning,
 * which the new socket would have had: a rare case, a program that sets
 * buffer sizes on some sockets only, kept as close as Linux allows.) */
static bool read_default_option(struct conn *c, size_t i, int from_fd)
{
	const struct carried_option *o = &carried_options[i];
	struct conn_option *v = &c->options[i];
	socklen_t len = o->len;

	if (sys.getsockopt(from_fd, o->level, o->name, v->value, &len) != 0 ||
	    len > CONN_OPTION_VALUE_MAX)
		return false;
	v->len = (uint8_t)len;
	if (o->level == SOL_SOCKET && (o->name == SO_SNDBUF || o->name == SO_RCVBUF)) {
		int size;

		memcpy(&size, v->value, sizeof(size));
		size /= 2;
		memcpy(v->value, &size, sizeof(size));
	}
	return true;
}

int conn_copy_socket_state(struct conn *c, int from_fd, int to_fd, uint32_t to_notes)
{
	int saved_errno = errno;
	uint32_t differ = c->options_set | (to_notes & ~CONN_NOTE_NONBLOCK);
	int from_flags;

	for (size_t i = 0; i < NCARRIED; i++) {
		const struct carried_option *o = &carried_options[i];
		uint32_t bit = 1u << i;

		if (!(differ & bit))
			continue;
		if (!(c->options_set & bit) && !read_default_option(c, i, from_fd)) {
			differ &= ~bit;		/* e.g. IP_TOS on an IPv6 socket */
			continue;
		}
		(void)sys.setsockopt(to_fd, o->level, o->name, c->options[i].value,
				     c->options[i].len);
	}
	c->options_set = differ;
	from_flags = sys.fcntl(from_fd, F_GETFL);
	if (from_flags >= 0 &&
	    !(from_flags & O_NONBLOCK) != !(to_notes & CONN_NOTE_NONBLOCK)) {
		int to_flags = sys.fcntl(to_fd, F_GETFL);

		if (to_flags >= 0)
			(void)sys.fcntl(to_fd, F_SETFL,
					(to_flags & ~O_NONBLOCK) | (from_flags & O_NONBLOCK));
	}
	errno = saved_errno;
	return from_flags;
}
