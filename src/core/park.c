/*
 * park.c: parking a connection (see park.h).
 */
#include "park.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "fdtab.h"
#include "log.h"
#include "option_report.h"
#include "pool.h"
#include "reaper.h"
#include "sys.h"

/* How long the pool may keep c's connection: our own limit, and under
 * what the server announced, with a margin so it has not just closed it. */
static uint64_t idle_deadline_ms(const struct engine_context *ctx, const struct conn *c)
{
	uint64_t limit = ctx->cfg->idle_timeout_ms;
	int64_t announced = http1_announced_idle_ms(&c->http);

	if (announced >= 0) {
		uint64_t margin = (uint64_t)announced / 4 > 250 ? (uint64_t)announced / 4 : 250;
		uint64_t usable = (uint64_t)announced > margin ? (uint64_t)announced - margin : 0;

		if (usable < limit)
			limit = usable;
	}
	return ctx->now_ms() + limit;
}

/* A private duplicate of fd, c's socket, with what the pool keeps beside
 * it: its shadow (taken over), or a new one; .fd is -1 when no fd is to
 * be had (the fd limit).  Caller holds c->lock. */
static struct pool_socket private_copy(const struct engine_context *ctx, struct conn *c,
				       int fd)
{
	struct pool_socket s = { .dev = c->dev, .inode = c->inode,
				 .notes = conn_socket_notes(c, fd),
				 .digest = conn_options_digest(c), .stats = c->stats };

	memcpy(s.options, c->options, sizeof(s.options));
	s.fd = c->shadow;
	c->shadow = -1;
	if (s.fd < 0 && (s.fd = sys.fcntl(fd, F_DUPFD_CLOEXEC, ctx->private_fd_floor())) >= 0)
		fdtab_private_mark(s.fd);
	return s;
}

/* Hands s, a private copy of c's socket, to the pool, with the requests
 * c carried since the budget last heard.  Caller holds c->lock (conn,
 * then pool). */
static void checkin(const struct engine_context *ctx, struct conn *c, struct pool_socket s,
		    int fd)
{
	uint64_t deadline = idle_deadline_ms(ctx, c);

	/* A checkin never fails for want of room: the oldest socket makes
	 * way.  It fails for a socket that is not one (closed meanwhile). */
	if (pool_checkin(ctx->pool, &c->dest, s, deadline, conn_take_untold_requests(c)) != 0)
		return;
	reaper_note_parked();
	log_debug("fd %d: parked as idle fd %d", fd, s.fd);
}

void park_at_close(const struct engine_context *ctx, struct conn *c, int fd)
{
	int saved_errno = errno;
	const char *why_not;
	struct pool_socket s;

	if (c->state != CONN_MANAGED)
		return;
	why_not = conn_unpoolable_reason(c);
	if (why_not == NULL) {
		s = private_copy(ctx, c, fd);
		if (s.fd >= 0) {
			conn_epoll_detach(c, fd);	/* as a real close would */
			checkin(ctx, c, s, fd);
			errno = saved_errno;
			return;
		}
		why_not = "no private fd";
	}
	/* The retry budget is a share of the requests made. */
	pool_note_requests(ctx->pool, &c->dest, conn_take_untold_requests(c));
	if (c->refused_option.set)	/* set after connect */
		option_report_refused(&c->refused_option, fd, &c->dest, c->stats);
	else
		log_debug("fd %d: not pooled: %s", fd, why_not);
	errno = saved_errno;
}

/* A socket that reads end-of-file: one end of a pair whose other end is
 * closed.  Made with the raw call (the engine never calls a hooked name). */
static int eof_socket(int nonblock)
{
	int sp[2];

	if (syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | nonblock, 0, sp) != 0)
		return -1;
	sys.close(sp[1]);
	return sp[0];
}

/* Parks c's connection, its rewritten exchange's response complete, and
 * puts a socket that reads end-of-file under fd.  false, with fd
 * unchanged, when that cannot be done.  Caller holds c->lock. */
static bool park_with_eof(const struct engine_context *ctx, struct conn *c, int fd)
{
	int nonblock = conn_fd_nonblocking(c, fd), eof = -1;
	struct pool_socket s = private_copy(ctx, c, fd);

	if (s.fd >= 0)
		eof = eof_socket(nonblock > 0 ? SOCK_NONBLOCK : 0);
	if (s.fd < 0 || eof < 0) {
		log_debug("fd %d: cannot give end-of-file in place of the connection: %s",
			  fd, strerror(errno));
		if (s.fd >= 0)
			sys.close(s.fd);
		return false;
	}
	/* The program's epoll sets follow its fd to the end-of-file socket. */
	conn_epoll_detach(c, fd);
	if (ctx->move_socket_onto(eof, fd, c) != 0) {
		conn_epoll_attach(c, fd);
		sys.close(s.fd);
		return false;
	}
	/* Only now: until the end-of-file socket stood under fd, the program
	 * held the connection, and no one else may be handed it. */
	checkin(ctx, c, s, fd);
	return true;
}

void park_end_rewritten(const struct engine_context *ctx, int fd, struct conn_ref ref)
{
	struct conn *c = ref.conn;
	int saved_errno = errno;
	bool parked = false;

	if (!conn_ref_lock(ref))
		return;
	if (!c->rewritten) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	/* No end of the response to be found: the server is made to close. */
	if (!http1_followed(&c->http) || c->http.protocol != HTTP1_HTTP) {
		conn_step_back(c);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (!conn_rewritten_response_complete(c)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	__atomic_store_n(&c->rewritten, false, __ATOMIC_RELAXED);
	if (conn_unpoolable_reason(c) == NULL)
		parked = park_with_eof(ctx, c, fd);
	if (!parked) {
		/* Not reusable, or no fd to be had (the fd limit, EMFILE,
		 * AF_UNIX forbidden): the program's end of the real connection
		 * reads end-of-file all the same. */
		c->broken = true;
		(void)sys.shutdown(fd, SHUT_RD);
	}
	pthread_mutex_unlock(&c->lock);
	/* fd is not a connection any more: forget it. */
	if (parked && fdtab_get(fd) == c && fdtab_take(fd) == c)
		conn_release(c);
	errno = saved_errno;
}
