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
#include <sys/epoll.h>
#include <sys/time.h>

#include "clock.h"

#include "../stats/stats_writer.h"
#include "fdtab.h"
#include "sys.h"

size_t conn_replay_max = 65536;
uint64_t (*conn_now_ms)(void) = clock_monotonic_ms;
void (*conn_connect_succeeded)(struct conn *c);

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
	c->reused = c->shared = c->broken = c->in_use_counted = false;
	__atomic_store_n(&c->rewritten, false, __ATOMIC_RELAXED);
	c->options_set = 0;
	c->nepolls = 0;
	c->dev = 0;
	c->inode = 0;
	memset(&c->dest, 0, sizeof(c->dest));
	c->stats = NULL;
	http1_init(&c->http);
	c->exchange_open = c->replay_overflow = false;
	c->replay_len = 0;
	c->response_bytes = 0;
	c->attempts = 0;
	c->connecting = false;
	c->idle_since_ms = c->exchange_idle_ms = 0;
	c->requests_counted = 0;
	pthread_mutex_unlock(&c->lock);
	return c;
}

void conn_release(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->in_use_counted)
		stats_count(c->stats, SP_IN_USE_NOW, -1);
	c->in_use_counted = false;
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
	c->in_use_counted = false;	/* counted in the parent's segment */
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

/* Keeps bytes of the exchange for a replay, as far as conn_replay_max
 * allows; growing the buffer is the only allocation on the managed path. */
static void keep_for_replay(struct conn *c, const void *buf, size_t len)
{
	if (c->replay_overflow)
		return;
	if (len > conn_replay_max - c->replay_len) {
		c->replay_overflow = true;
		return;
	}
	if (c->replay_len + len > c->replay_cap) {
		size_t cap = c->replay_cap != 0 ? c->replay_cap : 1024;
		uint8_t *grown;

		while (cap < c->replay_len + len)
			cap *= 2;
		grown = realloc(c->replay, cap);
		if (grown == NULL) {
			c->replay_overflow = true;
			return;
		}
		c->replay = grown;
		c->replay_cap = cap;
	}
	memcpy(c->replay + c->replay_len, buf, len);
	c->replay_len += len;
}

static void exchange_begin(struct conn *c)
{
	uint64_t now = conn_now_ms();

	c->exchange_open = true;
	c->replay_overflow = false;
	c->replay_len = 0;
	c->response_bytes = 0;
	c->attempts = 0;
	c->exchange_idle_ms = c->idle_since_ms != 0 ? now - c->idle_since_ms : 0;
	c->exchange_start_us = clock_monotonic_us();
}

/* Every request sent so far has been answered in full. */
static void exchange_end_if_answered(struct conn *c)
{
	const struct http1_tracker *t = &c->http;

	if (c->exchange_open && t->requests_started > 0 &&
	    t->requests_done == t->requests_started &&
	    t->responses_done == t->requests_started && !t->response_in_message) {
		c->exchange_open = false;
		c->idle_since_ms = conn_now_ms();
		stats_observe(c->stats, SP_HIST_REQUEST_TIME,
			      clock_monotonic_us() - c->exchange_start_us);
	}
}

/* Feeds bytes the program sent; counts requests as they begin. */
static void note_request_bytes(struct conn *c, const void *buf, size_t len)
{
	uint32_t before = c->http.requests_started;

	if (len == 0 || c->http.protocol == HTTP1_NOT_HTTP)
		return;
	if (!c->exchange_open)
		exchange_begin(c);
	keep_for_replay(c, buf, len);
	http1_feed_request(&c->http, buf, len);
	if (c->http.requests_started != before)
		stats_count(c->stats, SP_REQUESTS, c->http.requests_started - before);
}

/* A byte went through: a non-blocking connect still pending succeeded. */
static void note_bytes_went_through(struct conn *c)
{
	if (!c->connecting)
		return;
	c->connecting = false;
	if (conn_connect_succeeded != NULL)
		conn_connect_succeeded(c);
}

/* Result of a send-like call: bytes to note, or a failure to record. */
static bool note_send_result(struct conn *c, ssize_t result, int err)
{
	if (result > 0)
		note_bytes_went_through(c);
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
	if (result > 0) {
		note_bytes_went_through(c);
		return true;
	}
	if (result == 0)
		http1_response_eof(&c->http);
	else if (!io_error_is_transient(err))
		c->broken = true;
	return false;
}

static void note_response_bytes(struct conn *c, const void *buf, size_t len)
{
	c->response_bytes += len;
	http1_feed_response(&c->http, buf, len);
	exchange_end_if_answered(c);
}

void conn_note_received(struct conn_ref ref, const void *buf, ssize_t result)
{
	int saved_errno = errno;

	if (!conn_ref_lock(ref))
		return;
	if (ref.conn->state == CONN_MANAGED && note_receive_result(ref.conn, result, saved_errno))
		note_response_bytes(ref.conn, buf, (size_t)result);
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

			note_response_bytes(ref.conn, iov[i].iov_base, n);
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

bool conn_exchange_replayable(const struct conn *c)
{
	const struct http1_tracker *t = &c->http;

	if (c->replay_overflow || t->protocol == HTTP1_NOT_HTTP || t->unusable)
		return false;
	if (!c->exchange_open || c->replay_len == 0)
		return true;	/* nothing of it sent */
	if (http1_outstanding_replay_safe(t))
		return true;
	/* One request whose headers are not all sent yet: its method (or an
	 * Idempotency-Key among the bytes so far) decides. */
	return t->requests_started - t->responses_done <= 1 && t->requests_done == t->responses_done &&
	       http1_request_looks_idempotent((const char *)c->replay, c->replay_len);
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

void conn_apply_options(const struct conn *c, int fd)
{
	int saved_errno = errno;

	for (size_t i = 0; i < NCARRIED; i++)
		if (c->options_set & (1u << i))
			(void)sys.setsockopt(fd, carried_options[i].level, carried_options[i].name,
					     c->options[i].value, c->options[i].len);
	errno = saved_errno;
}

void conn_note_rewritten(struct conn_ref ref)
{
	if (!conn_ref_lock(ref))
		return;
	__atomic_store_n(&ref.conn->rewritten, true, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ref.conn->lock);
}

void conn_note_epoll(struct conn_ref ref, int epfd, int op, const struct epoll_event *event)
{
	int saved_errno = errno;
	struct conn *c = ref.conn;
	unsigned i;

	if (!conn_ref_lock(ref))
		return;
	for (i = 0; i < c->nepolls && c->epolls[i].epfd != epfd; i++)
		;
	if (op == EPOLL_CTL_DEL && i < c->nepolls) {
		c->epolls[i] = c->epolls[--c->nepolls];
	} else if (op != EPOLL_CTL_DEL && event != NULL) {
		if (i == c->nepolls && c->nepolls == CONN_EPOLL_MAX) {
			c->broken = true;	/* more sets than we follow */
		} else {
			if (i == c->nepolls)
				c->nepolls++;
			c->epolls[i] = (struct conn_epoll){ epfd, event->events, event->data.u64 };
		}
	}
	pthread_mutex_unlock(&c->lock);
	errno = saved_errno;
}

void conn_epoll_detach(const struct conn *c, int fd)
{
	int saved_errno = errno;

	for (unsigned i = 0; i < c->nepolls; i++)
		(void)sys.epoll_ctl(c->epolls[i].epfd, EPOLL_CTL_DEL, fd, NULL);
	errno = saved_errno;
}

void conn_epoll_attach(const struct conn *c, int fd)
{
	int saved_errno = errno;

	for (unsigned i = 0; i < c->nepolls; i++) {
		struct epoll_event ev = { .events = c->epolls[i].events,
					  .data.u64 = c->epolls[i].data };

		(void)sys.epoll_ctl(c->epolls[i].epfd, EPOLL_CTL_ADD, fd, &ev);
	}
	errno = saved_errno;
}

uint64_t conn_timeout_ms(const struct conn *c, int name)
{
	int i = carried_option_index(SOL_SOCKET, name);
	struct timeval tv;

	if (i < 0 || !(c->options_set & (1u << i)) || c->options[i].len < sizeof(tv))
		return 0;
	memcpy(&tv, c->options[i].value, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0)
		return 0;
	return (uint64_t)tv.tv_sec * 1000u + (uint64_t)(tv.tv_usec + 999) / 1000u;
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

/* One step of the digest: FNV-1a's multiply over a word, then a shift so
 * that high bits reach the low ones before the next word. */
static uint64_t digest_step(uint64_t h, uint64_t word)
{
	h = (h ^ word) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

uint64_t conn_options_digest(const struct conn *c)
{
	uint64_t h = digest_step(0xcbf29ce484222325ULL, c->options_set);

	/* A word at a time: this runs at every check-out and check-in. */
	for (uint32_t set = c->options_set; set != 0; set &= set - 1) {
		unsigned i = (unsigned)__builtin_ctz(set);
		uint64_t words[CONN_OPTION_VALUE_MAX / 8] = { 0 };

		memcpy(words, c->options[i].value, c->options[i].len);
		h = digest_step(h, (uint64_t)i << 8 | c->options[i].len);
		for (size_t w = 0; w < CONN_OPTION_VALUE_MAX / 8; w++)
			h = digest_step(h, words[w]);
	}
	return h;
}

int conn_copy_socket_state(struct conn *c, int from_fd, int to_fd, uint32_t to_notes,
			   uint64_t to_digest)
{
	int saved_errno = errno;
	uint32_t differ = c->options_set | (to_notes & ~CONN_NOTE_NONBLOCK);
	int from_flags;

	/* The same options with the same values on both: a program that sets
	 * the same ones on every socket costs no system call here. */
	if ((to_notes & ~CONN_NOTE_NONBLOCK) == c->options_set &&
	    to_digest == conn_options_digest(c))
		differ = 0;
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
	c->options_set |= differ;
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
