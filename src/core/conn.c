/*
 * conn.c: per-socket state, its recycling, and the notes hooks make about
 * the program's I/O.  See conn.h for the lifetime rule.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "clock.h"

#include "../stats/stats_writer.h"
#include "fd_identity.h"
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
	__atomic_store_n(&c->state, CONN_CANDIDATE, __ATOMIC_RELAXED);
	c->fd = -1;
	c->nonblock = c->cloexec = -1;
	c->shadow = -1;
	c->shut_after_request = false;
	c->reused = c->shared = c->broken = c->in_use_counted = false;
	c->liveness_unchecked = false;
	c->conn_bound_auth = false;
	__atomic_store_n(&c->rewritten, false, __ATOMIC_RELAXED);
	c->options_set = 0;
	c->refused_option.set = false;
	c->nepolls = 0;
	c->dev = 0;
	c->inode = 0;
	memset(&c->dest, 0, sizeof(c->dest));
	c->stats = NULL;
	http1_init(&c->http);
	c->exchange_open = c->replay_overflow = c->request_blind = false;
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
	/* The parent steps back from a rewritten exchange (the server
	 * closes): neither copy gives an end-of-file of its own. */
	__atomic_store_n(&c->rewritten, false, __ATOMIC_RELAXED);
	c->shut_after_request = false;
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
	c->request_blind = false;
	c->replay_len = 0;
	c->response_bytes = 0;
	c->attempts = 0;
	c->exchange_idle_ms = c->idle_since_ms != 0 ? now - c->idle_since_ms : 0;
	c->exchange_start_us = clock_monotonic_us();
}

/* Every request sent so far has been answered in full. */
static void exchange_end_if_answered(struct conn *c)
{
	if (c->exchange_open && http1_all_answered(&c->http)) {
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
	if (c->request_blind)
		return;		/* the tracker would read a body as a new request */
	keep_for_replay(c, buf, len);
	http1_feed_request(&c->http, buf, len);
	if (c->http.requests_started != before)
		stats_count(c->stats, SP_REQUESTS, c->http.requests_started - before);
	if (c->shut_after_request)
		conn_step_back(c);
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
	conn_step_back(ref.conn);
	pthread_mutex_unlock(&ref.conn->lock);
}

void conn_note_shared(struct conn_ref ref)
{
	if (!conn_ref_lock(ref))
		return;
	ref.conn->shared = true;
	conn_step_back(ref.conn);
	pthread_mutex_unlock(&ref.conn->lock);
}

void conn_note_unseen_send(struct conn_ref ref)
{
	struct conn *c = ref.conn;

	if (!conn_ref_lock(ref))
		return;
	c->broken = true;
	c->replay_overflow = true;	/* what went cannot be sent again */
	if (c->exchange_open || c->http.requests_started > 0)
		c->request_blind = true;
	pthread_mutex_unlock(&c->lock);
}

void conn_step_back(struct conn *c)
{
	int saved_errno = errno;

	if (!__atomic_load_n(&c->rewritten, __ATOMIC_RELAXED))
		return;
	c->broken = true;
	/* A request still going out, and followed: the server must not see
	 * our end of file before its end (note_request_bytes comes back). */
	if (!c->request_blind && http1_followed(&c->http) &&
	    c->http.requests_done != c->http.requests_started) {
		c->shut_after_request = true;
		return;
	}
	/* A request whose end sockpool cannot see (its body went by
	 * sendfile, or the tracker gave up) is taken as sent: the program
	 * sent it before it handed the socket on.  The server answers it,
	 * then sees our end of file and closes, as the program asked. */
	c->shut_after_request = false;
	__atomic_store_n(&c->rewritten, false, __ATOMIC_RELAXED);
	if (fd_holds_socket(c->fd, c->dev, c->inode))
		(void)sys.shutdown(c->fd, SHUT_WR);
	errno = saved_errno;
}

bool conn_rewritten_response_complete(const struct conn *c)
{
	return http1_all_responses_in(&c->http);
}

void conn_echo_close(struct conn_ref ref, void *buf, const struct iovec *iov, int iovcnt,
		     ssize_t result, bool peek)
{
	struct conn *c = ref.conn;
	struct response_close saved;
	size_t left = result > 0 ? (size_t)result : 0;

	if (left == 0 || c == NULL || !__atomic_load_n(&c->rewritten, __ATOMIC_RELAXED) ||
	    !conn_ref_lock(ref))
		return;
	saved = c->response_close;
	if (buf != NULL)
		response_close_apply(&c->response_close, buf, left);
	for (int i = 0; buf == NULL && i < iovcnt && left > 0; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		response_close_apply(&c->response_close, iov[i].iov_base, n);
		left -= n;
	}
	if (peek)
		c->response_close = saved;	/* the same bytes come again */
	pthread_mutex_unlock(&c->lock);
}

const char *conn_unpoolable_reason(const struct conn *c)
{
	if (c->state != CONN_MANAGED)
		return "not connected";
	if (c->shared)
		return "the fd was duplicated";
	if (c->refused_option.set)
		return "the program set a socket option sockpool cannot carry";
	if (c->broken)
		return "an error, a shutdown or a call sockpool cannot follow";
	return http1_unreusable_reason(&c->http);
}

bool conn_may_step_in(const struct conn *c)
{
	return c->state == CONN_MANAGED && !c->shared && !c->broken && http1_followed(&c->http);
}

uint32_t conn_take_untold_requests(struct conn *c)
{
	uint32_t untold = c->http.requests_started - c->requests_counted;

	c->requests_counted = c->http.requests_started;
	return untold;
}

void conn_note_fd_flags(struct conn_ref ref, int nonblock, int cloexec)
{
	int saved_errno = errno;

	if (!conn_ref_lock(ref))
		return;
	if (nonblock != CONN_FLAG_KEPT)
		ref.conn->nonblock = (int8_t)nonblock;
	if (cloexec != CONN_FLAG_KEPT)
		ref.conn->cloexec = (int8_t)cloexec;
	pthread_mutex_unlock(&ref.conn->lock);
	errno = saved_errno;
}

int conn_fd_nonblocking(const struct conn *c, int fd)
{
	int flags;

	if (c->nonblock >= 0)
		return c->nonblock;
	flags = sys.fcntl(fd, F_GETFL);
	return flags < 0 ? -1 : (flags & O_NONBLOCK) != 0;
}

int conn_fd_cloexec(const struct conn *c, int fd)
{
	int flags;

	if (c->cloexec >= 0)
		return c->cloexec;
	flags = sys.fcntl(fd, F_GETFD);
	return flags < 0 ? -1 : (flags & FD_CLOEXEC) != 0;
}

void conn_drop_shadow(struct conn *c)
{
	int saved_errno = errno;

	if (c->shadow >= 0 && fd_holds_socket(c->shadow, c->dev, c->inode))
		sys.close(c->shadow);
	c->shadow = -1;
	errno = saved_errno;
}

int conn_adopt_socket_onto(int s, int fd, struct conn *c)
{
	int rc = sys.dup3(s, fd, conn_fd_cloexec(c, fd) > 0 ? O_CLOEXEC : 0);

	if (rc < 0) {
		sys.close(s);
		return -1;
	}
	conn_drop_shadow(c);	/* of the socket dup3 replaced */
	c->shadow = s;
	conn_epoll_attach(c, fd);	/* the sets the program put fd in */
	return 0;
}

int conn_move_socket_onto(int s, int fd, struct conn *c)
{
	int rc = sys.dup3(s, fd, conn_fd_cloexec(c, fd) > 0 ? O_CLOEXEC : 0);

	sys.close(s);
	if (rc < 0)
		return -1;
	conn_drop_shadow(c);	/* of the socket dup3 replaced */
	conn_epoll_attach(c, fd);	/* the sets the program put fd in */
	return 0;
}

bool conn_exchange_replayable(const struct conn *c)
{
	const struct http1_tracker *t = &c->http;

	if (c->replay_overflow || !http1_followed(t))
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

void conn_note_rewritten(struct conn_ref ref)
{
	if (!conn_ref_lock(ref))
		return;
	__atomic_store_n(&ref.conn->rewritten, true, __ATOMIC_RELAXED);
	response_close_init(&ref.conn->response_close);
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
