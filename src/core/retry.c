/*
 * retry.c: the recovery policy of retry.h: connect retries, replays, and
 * a new connection for a non-idempotent request.
 *
 * Everything here works on the context it is given (engine_context.h:
 * the pool, the configuration, the clock, how a socket is put under a
 * fd) and is called by the data path (engine_io.c) and the lifecycle
 * (engine.c).  Recovery runs with the conn's lock held: another thread
 * using the same fd waits until the connection under it is settled.  The
 * lock order is conn, then pool (the pool never takes a conn lock).
 */
#include "retry.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../stats/stats_writer.h"
#include "backoff.h"
#include "config.h"
#include "engine_context.h"
#include "fd_identity.h"
#include "fdtab.h"
#include "log.h"
#include "pool.h"
#include "sys.h"

static const enum sp_counter replay_counter[] = {
	[FAILURE_RESET] = SP_REPLAYS_RESET,
	[FAILURE_EPIPE] = SP_REPLAYS_EPIPE,
	[FAILURE_EOF] = SP_REPLAYS_EOF,
};

static const char *const failure_name[] = {
	[FAILURE_NONE] = "none",
	[FAILURE_RESET] = "a reset",
	[FAILURE_EPIPE] = "a broken pipe",
	[FAILURE_EOF] = "end of file",
};

bool retry_connect_error_is_retryable(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == EADDRNOTAVAIL ||
	       err == ENETUNREACH || err == EAGAIN;
}

bool retry_connect_worth_retrying(const struct engine_context *ctx, const struct dest_key *key,
				  int err)
{
	char text[DEST_KEY_TEXT_MAX];

	if (!retry_connect_error_is_retryable(err))
		return false;
	if (err != ECONNREFUSED || pool_dest_answered(ctx->pool, key))
		return true;
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		dest_key_format(key, text, sizeof(text));
		log_debug("connect to %s refused, and nothing ever answered there: "
			  "passed on, not retried", text);
	}
	return false;
}

/* A random value for the backoff jitter: splitmix64 over an atomic
 * counter, so threads need no lock and no thread-local storage (whose
 * first use may allocate inside a preloaded library). */
static uint64_t jitter_random(const struct engine_context *ctx)
{
	static uint64_t counter;
	uint64_t z;

	if (__atomic_load_n(&counter, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&counter, ctx->now_ms() ^ (uint64_t)getpid() << 32,
				 __ATOMIC_RELAXED);
	z = __atomic_add_fetch(&counter, 0x9e3779b97f4a7c15ULL, __ATOMIC_RELAXED);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Whether fd still holds the socket it held when `before` was taken, and
 * is still c's: the program may close it (and the number be reused) while
 * a retry pauses. */
static bool fd_unchanged(int fd, const struct conn *c, const struct stat *before)
{
	return fdtab_get(fd) == c && fd_holds_socket(fd, before->st_dev, before->st_ino);
}

/* Puts connected socket s under fd, if fd still holds the socket `before`
 * recorded (then updated to s's): a close() that gave up waiting for c's
 * lock during a pause may have freed the number for another file.  s is
 * closed either way. */
static bool move_onto_unchanged(const struct engine_context *ctx, int s, int fd, struct conn *c,
				struct stat *before)
{
	if (!fd_unchanged(fd, c, before)) {
		sys.close(s);
		return false;
	}
	return ctx->move_socket_onto(s, fd, c) == 0 && fstat(fd, before) == 0;
}

/* When recovery must be over: our deadline, or the program's own timeout
 * for the call (the tighter of those it set), whichever comes first. */
static uint64_t recovery_deadline(const struct engine_context *ctx, const struct conn *c,
				  int timeout_name)
{
	uint64_t limit = ctx->cfg->retry_deadline_ms;
	uint64_t own = conn_timeout_ms(c, timeout_name);

	if (own != 0 && own < limit)
		limit = own;
	return ctx->now_ms() + limit;
}

/* Waits before retry number `attempt` (0-based) if the deadline and the
 * budget allow it; false when the retry must not happen.  The first
 * replay of an exchange goes at once (pause false): its connection was
 * most likely closed by the server while idle, and a new one will do. */
static bool wait_for_retry(const struct engine_context *ctx, struct conn *c,
			   const struct dest_key *key, unsigned attempt, uint64_t deadline,
			   bool pause)
{
	const struct config *cfg = ctx->cfg;
	uint32_t delay = pause ? backoff_delay_ms(cfg->backoff_base_ms, cfg->backoff_max_ms,
						  attempt, jitter_random(ctx)) : 0;

	if (attempt >= cfg->retries || ctx->now_ms() + delay >= deadline)
		return false;
	/* The budget is a share of the requests made: it hears of them
	 * before it is asked for a retry. */
	pool_note_requests(ctx->pool, key, conn_take_untold_requests(c));
	if (!pool_take_retry(ctx->pool, key, cfg->retry_budget_percent)) {
		stats_count(stats_writer_dest(key), SP_BUDGET_REFUSALS, 1);
		log_debug("retry refused: the retry budget is spent");
		return false;
	}
	sleep_ms(delay);
	return true;
}

/* One connect to key on a new socket with c's options, waited for until
 * the deadline (poll, so a server that drops SYNs cannot hold us past
 * it): its private fd once connected, with the file status flags
 * status_flags, or -1 with errno set to how it failed (ETIMEDOUT when the
 * deadline came first). */
static int connect_and_wait(const struct engine_context *ctx, struct conn *c,
			    const struct dest_key *key, uint64_t deadline, int status_flags)
{
	struct sockaddr_storage ss;
	socklen_t len = dest_key_to_sockaddr(key, &ss);
	int s = sys.socket(key->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err = 0;

	if (s < 0)
		return -1;
	conn_apply_options(c, s);
	if (sys.connect(s, (struct sockaddr *)&ss, len) != 0) {
		err = errno;
		while (err == EINPROGRESS) {
			struct pollfd p = { .fd = s, .events = POLLOUT };
			uint64_t now = ctx->now_ms();
			socklen_t elen = sizeof(err);
			int rc;

			if (now >= deadline) {
				err = ETIMEDOUT;
				break;
			}
			rc = poll(&p, 1, (int)(deadline - now < 1000 ? deadline - now : 1000));
			if (rc < 0 && errno != EINTR)
				err = errno;
			else if (rc > 0 && sys.getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
				err = errno;
		}
	}
	if (err == 0 && sys.fcntl(s, F_SETFL, status_flags) != 0)
		err = errno;
	if (err == 0) {
		pool_note_answered(ctx->pool, key, NULL);
		return s;
	}
	sys.close(s);
	errno = err;
	return -1;
}

/* A new connection to key with c's options, retrying failed connects; its
 * (private, CLOEXEC) fd with the file status flags of the program's fd
 * (O_NONBLOCK above all), or -1 with errno set.  `failures` connects have
 * failed already. */
static int open_connection(const struct engine_context *ctx, struct conn *c,
			   const struct dest_key *key, unsigned failures, uint64_t deadline, int fd)
{
	int status_flags = sys.fcntl(fd, F_GETFL);
	int err = errno;

	if (status_flags < 0)
		return -1;
	for (unsigned attempt = failures;; attempt++) {
		int s;

		if (attempt > 0) {
			if (!wait_for_retry(ctx, c, key, attempt - 1, deadline, true)) {
				errno = err;
				return -1;
			}
			stats_count(stats_writer_dest(key), SP_CONNECT_RETRIES, 1);
		}
		s = connect_and_wait(ctx, c, key, deadline, status_flags);
		if (s >= 0)
			return s;
		err = errno;
		if (!retry_connect_worth_retrying(ctx, key, err))
			return -1;
	}
}

/* The conn now stands for a new connection that sockpool opened. */
static void became_new_connection(struct conn *c)
{
	c->reused = false;
	c->idle_since_ms = 0;
	c->exchange_idle_ms = 0;
	c->dev = 0;
	c->inode = 0;
	stats_count(c->stats, SP_CONNS_OPENED, 1);
}

int retry_connect(const struct engine_context *ctx, int fd, struct conn *c,
		  const struct dest_key *key, int err)
{
	uint64_t deadline = recovery_deadline(ctx, c, SO_SNDTIMEO);
	struct stat before;
	int s;

	if (fstat(fd, &before) != 0)
		return -1;
	errno = err;
	s = open_connection(ctx, c, key, 1, deadline, fd);
	if (s < 0 || !move_onto_unchanged(ctx, s, fd, c, &before)) {
		stats_count(stats_writer_dest(key), SP_ERRORS_PASSED, 1);
		return -1;
	}
	return 0;
}

/* ---- non-blocking connects ---- */

bool retry_connect_failed_late(int err)
{
	return err != EAGAIN && retry_connect_error_is_retryable(err);
}

bool retry_handshake_never_completed(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	return sys.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	       ti.tcpi_rtt == 0 && ti.tcpi_options == 0;
}

bool retry_pending_connect(const struct engine_context *ctx, int fd, struct conn *c, int err)
{
	struct stat before;
	int s;

	if (!c->connecting || !conn_may_step_in(c) || !retry_connect_error_is_retryable(err))
		return false;
	c->connecting = false;	/* settled here, one way or the other */
	if (!retry_connect_worth_retrying(ctx, &c->dest, err) || fstat(fd, &before) != 0 ||
	    !retry_handshake_never_completed(fd))
		return false;
	errno = err;
	s = open_connection(ctx, c, &c->dest, 1, recovery_deadline(ctx, c, SO_SNDTIMEO), fd);
	if (s < 0 || !move_onto_unchanged(ctx, s, fd, c, &before)) {
		stats_count(c->stats, SP_ERRORS_PASSED, 1);
		return false;
	}
	c->dev = 0;
	c->inode = 0;
	log_debug("fd %d: connect failed (%s); connected again on a new socket", fd, strerror(err));
	return true;
}

/* ---- data calls ---- */

/* Whether the call blocks: c's fd is blocking (conn.h follows it) and
 * the call does not ask otherwise.  Caller holds c->lock. */
static bool call_may_block(const struct conn *c, const struct io_call *call)
{
	return !(call->flags & (MSG_DONTWAIT | MSG_PEEK)) && conn_fd_nonblocking(c, call->fd) == 0;
}

enum retry_failure retry_failure_of(const struct io_call *call, ssize_t result, int err)
{
	bool asked_nothing = (call->kind == IO_READ || call->kind == IO_RECV ||
			      call->kind == IO_RECVFROM) && call->len == 0;

	if (result == 0 && !io_call_sends(call) && !asked_nothing)
		return FAILURE_EOF;
	if (result < 0 && err == ECONNRESET)
		return FAILURE_RESET;
	if (result < 0 && err == EPIPE)
		return FAILURE_EPIPE;
	if (result < 0 && retry_connect_failed_late(err))
		return FAILURE_CONNECT;
	return FAILURE_NONE;
}

/* Whether the exchange on c may be sent again after this failure. */
static bool exchange_recoverable(const struct conn *c, const struct io_call *call)
{
	if (!conn_may_step_in(c))
		return false;
	/* A read with nothing in flight is the program's own business; so is
	 * anything after the response began. */
	if (!c->exchange_open && !io_call_sends(call))
		return false;
	return c->response_bytes == 0 && conn_exchange_replayable(c);
}

/* Sends the kept bytes of the exchange on the new connection on fd. */
static bool send_kept_bytes(const struct conn *c, int fd)
{
	size_t sent = 0;

	while (sent < c->replay_len) {
		ssize_t n = sys.send(fd, c->replay + sent, c->replay_len - sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		sent += (size_t)n;
	}
	return true;
}

/* Replaces the failed connection under call->fd with a new one that has
 * the exchange's bytes sent again.  true when the call may be made again. */
static bool replay_exchange(const struct engine_context *ctx, struct conn *c,
			    const struct io_call *call, enum retry_failure why)
{
	int timeout = io_call_sends(call) ? SO_SNDTIMEO : SO_RCVTIMEO;
	uint64_t deadline = recovery_deadline(ctx, c, timeout);
	struct stat before;

	if (fstat(call->fd, &before) != 0)
		return false;

	/* EOF on a connection that had been idle: the server closed it at
	 * that age, which bounds its idle timeout. */
	if (why == FAILURE_EOF && c->exchange_idle_ms > 0)
		pool_learn_idle_timeout(ctx->pool, &c->dest, c->exchange_idle_ms);
	while (c->attempts < ctx->cfg->retries) {
		int s;

		if (!wait_for_retry(ctx, c, &c->dest, c->attempts, deadline, c->attempts > 0))
			return false;
		c->attempts++;
		s = open_connection(ctx, c, &c->dest, 0, deadline, call->fd);
		if (s < 0 || !move_onto_unchanged(ctx, s, call->fd, c, &before))
			return false;
		became_new_connection(c);
		stats_count(c->stats, replay_counter[why], 1);
		if (send_kept_bytes(c, call->fd)) {
			log_debug("fd %d: exchange sent again on a new connection after %s",
				  call->fd, failure_name[why]);
			return true;
		}
		why = errno == EPIPE ? FAILURE_EPIPE : FAILURE_RESET;
	}
	return false;
}

bool retry_call_after_failed_connect(const struct engine_context *ctx, struct conn_ref ref,
				     const struct io_call *call, int err)
{
	struct conn *c = ref.conn;
	bool again;

	if (c == NULL || !retry_connect_failed_late(err) || !conn_ref_lock(ref))
		return false;
	again = retry_pending_connect(ctx, call->fd, c, err);
	pthread_mutex_unlock(&c->lock);
	return again;
}

bool retry_recover(const struct engine_context *ctx, struct conn_ref ref,
		   const struct io_call *call, enum retry_failure why)
{
	struct conn *c = ref.conn;
	bool again = false;

	if (!conn_ref_lock(ref))
		return false;
	/* glibc may close an fd without our close() (fclose of an fdopen'ed
	 * socket) and reuse its number: such an fd is never replaced. */
	if (exchange_recoverable(c, call) && call_may_block(c, call) &&
	    fd_holds_socket(call->fd, c->dev, c->inode))
		again = replay_exchange(ctx, c, call, why);
	/* End of file once the response began is how some responses end. */
	if (!again && c->state == CONN_MANAGED && c->http.protocol == HTTP1_HTTP &&
	    (why != FAILURE_EOF || (c->exchange_open && c->response_bytes == 0)))
		stats_count(c->stats, SP_ERRORS_PASSED, 1);
	pthread_mutex_unlock(&c->lock);
	return again;
}

/* The first bytes the call sends, to judge the request they begin. */
static void first_bytes(const struct io_call *call, const char **data, size_t *len)
{
	const struct iovec *iov = call->iov;
	int iovcnt = call->iovcnt;

	if (call->kind == IO_SENDMSG) {
		iov = call->msg->msg_iov;
		iovcnt = (int)call->msg->msg_iovlen;
	}
	if (call->kind == IO_WRITEV || call->kind == IO_SENDMSG) {
		*data = iovcnt > 0 ? iov[0].iov_base : NULL;
		*len = iovcnt > 0 ? iov[0].iov_len : 0;
	} else {
		*data = call->buf;
		*len = call->len;
	}
}

/* How long the server for c is known to keep an idle connection. */
static uint64_t known_idle_timeout_ms(const struct engine_context *ctx, const struct conn *c)
{
	uint64_t known = pool_learned_idle_timeout(ctx->pool, &c->dest);
	int64_t announced = http1_announced_idle_ms(&c->http);

	if (known == 0 && announced >= 0)
		known = (uint64_t)announced;
	if (known == 0 || known > ctx->cfg->idle_timeout_ms)
		known = ctx->cfg->idle_timeout_ms;
	return known;
}

void retry_avoid_stale(const struct engine_context *ctx, struct conn_ref ref,
		       const struct io_call *call)
{
	struct conn *c = ref.conn;
	struct stat before;
	bool unchecked;
	const char *data;
	size_t len;
	int s;

	if (!conn_ref_lock(ref))
		return;
	if (!conn_may_step_in(c) || c->exchange_open || c->idle_since_ms == 0)
		goto out;
	unchecked = c->liveness_unchecked;
	c->liveness_unchecked = false;
	/* Cheapest first: most requests are GETs. */
	first_bytes(call, &data, &len);
	if (data == NULL || http1_request_looks_idempotent(data, len) || !call_may_block(c, call))
		goto out;
	/* Young enough, and alive when looked at (the pool did not look at a
	 * socket it had just been given: that look is made here). */
	if (ctx->now_ms() - c->idle_since_ms < known_idle_timeout_ms(ctx, c) / 2 &&
	    (!unchecked || pool_socket_looks_alive(call->fd)))
		goto out;
	if (fstat(call->fd, &before) != 0)
		goto out;
	s = open_connection(ctx, c, &c->dest, 0, recovery_deadline(ctx, c, SO_SNDTIMEO), call->fd);
	if (s >= 0 && move_onto_unchanged(ctx, s, call->fd, c, &before)) {
		became_new_connection(c);
		stats_count(c->stats, SP_FRESH_FOR_UNSAFE, 1);
		log_debug("fd %d: a non-idempotent request gets a new connection", call->fd);
	}
out:
	pthread_mutex_unlock(&c->lock);
}
