/*
 * speculate.c: speculative checkout (see speculate.h): each thread's
 * guess, handing a pooled socket out at socket(), and settling a guess
 * that turned out wrong.
 */
#include "speculate.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "../stats/stats_writer.h"
#include "log.h"
#include "pool.h"
#include "sys.h"

#define PENALTY_FIRST 4
#define PENALTY_MAX 256

/* What this thread's connects tell about its next one.  Initial-exec TLS:
 * the library is preloaded, so its block is static and each access is one
 * load, without a call into the dynamic loader. */
static __thread struct {
	struct dest_key last;	/* the destination of its last connect */
	uint8_t repeats;	/* connects in a row to it, counted up to 2 */
	uint16_t cooldown;	/* sockets still to pass without a guess */
	uint16_t penalty;	/* the cooldown after the next wrong guess */
} history __attribute__((tls_model("initial-exec")));

static unsigned outstanding;

unsigned speculate_outstanding(void)
{
	return __atomic_load_n(&outstanding, __ATOMIC_RELAXED);
}

void speculate_note_connect(const struct dest_key *key)
{
	if (memcmp(key, &history.last, sizeof(*key)) != 0) {
		history.last = *key;
		history.repeats = 1;
	} else if (history.repeats < 2) {
		history.repeats++;
	}
}

bool speculate_worth_trying(int domain, struct dest_key *key)
{
	if (history.repeats < 2 || history.last.family != domain)
		return false;
	if (history.cooldown > 0) {
		history.cooldown--;
		return false;
	}
	*key = history.last;
	return true;
}

static void note_wrong_guess(void)
{
	history.penalty = history.penalty == 0 ? PENALTY_FIRST
			  : history.penalty >= PENALTY_MAX / 2 ? PENALTY_MAX
			  : history.penalty * 2;
	history.cooldown = history.penalty;
}

int speculate_hand_out(const struct engine_context *ctx, struct conn *c, int type,
		       const struct dest_key *key, struct pool_socket idle)
{
	int saved_errno = errno;
	int fd = sys.fcntl(idle.fd, (type & SOCK_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);

	if (fd < 0) {
		pool_put_back(ctx->pool, key, idle);
		errno = saved_errno;
		return -1;
	}
	__atomic_store_n(&c->state, CONN_SPECULATIVE, __ATOMIC_RELAXED);
	c->fd = fd;
	/* O_NONBLOCK as the program sees it; the socket's own (its open file,
	 * shared with the pool's fd, as the pool's notes say) is made the same
	 * only at connect: programs often change it in between. */
	c->nonblock = (type & SOCK_NONBLOCK) != 0;
	c->cloexec = (type & SOCK_CLOEXEC) != 0;
	c->shadow = idle.fd;
	c->dev = idle.dev;
	c->inode = idle.inode;
	c->dest = *key;
	c->spec = idle;
	c->spec_since_ms = ctx->now_ms();
	__atomic_add_fetch(&outstanding, 1, __ATOMIC_RELAXED);
	stats_count(idle.stats, SP_SPECULATED, 1);
	errno = saved_errno;
	return fd;
}

/* c is no longer speculative, a CANDIDATE whose fd holds no pooled socket. */
static void speculation_over(struct conn *c)
{
	__atomic_store_n(&c->state, CONN_CANDIDATE, __ATOMIC_RELAXED);
	c->shadow = -1;
	c->dev = 0;
	c->inode = 0;
	memset(&c->dest, 0, sizeof(c->dest));
	__atomic_sub_fetch(&outstanding, 1, __ATOMIC_RELAXED);
}

/* The pooled socket, held by c's shadow alone now, goes back as it was
 * (but for the options the program set on it, which its record has). */
static void give_back(const struct engine_context *ctx, struct conn *c)
{
	struct pool_socket s = c->spec;

	s.fd = c->shadow;
	c->shadow = -1;
	pool_put_back(ctx->pool, &c->dest, s);
}

bool speculate_connect(const struct engine_context *ctx, struct conn *c, int fd,
		       const struct dest_key *key)
{
	uint64_t now = ctx->now_ms();
	int nonblock = conn_fd_nonblocking(c, fd);
	bool look, give_back = true;

	if (memcmp(key, &c->dest, sizeof(*key)) != 0 || now >= c->spec.expires_ms)
		goto settle;
	/* The pool did not look at a socket just parked, for a blocking
	 * program (pool.h); one that has turned non-blocking since gets the
	 * look now, and so does one held a while before its connect (the
	 * server may have closed it meanwhile). */
	look = (c->spec.unchecked && nonblock != 0) ||
	       now - c->spec_since_ms >= POOL_UNCHECKED_IDLE_MS;
	if (look && !pool_socket_looks_alive(fd)) {
		stats_count(c->spec.stats, SP_STALE_DISCARDED, 1);
		give_back = false;
		goto settle;
	}
	switch (conn_speculative_options_reset(c, fd)) {
	case 0:
		goto settle;
	case -1:
		give_back = false;	/* its options are no longer its record's */
		goto settle;
	}
	if (nonblock != ((c->spec.notes & CONN_NOTE_NONBLOCK) != 0) &&
	    sys.fcntl(fd, F_SETFL, nonblock > 0 ? O_NONBLOCK : 0) != 0) {
		give_back = false;	/* its options are no longer its record's */
		goto settle;
	}
	c->conn_bound_auth = (c->spec.notes & CONN_NOTE_CONN_AUTH) != 0;
	c->idle_since_ms = c->spec.idle_since_ms;
	c->liveness_unchecked = c->spec.unchecked && !look;
	/* The engine makes it MANAGED. */
	__atomic_store_n(&c->state, CONN_CANDIDATE, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&outstanding, 1, __ATOMIC_RELAXED);
	history.penalty = 0;
	return true;
settle:
	speculate_settle(ctx, c, fd, give_back);
	return false;
}

void speculate_settle(const struct engine_context *ctx, struct conn *c, int fd, bool give)
{
	int saved_errno = errno;
	int nonblock = conn_fd_nonblocking(c, fd);
	int cloexec = conn_fd_cloexec(c, fd);
	int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblock > 0 ? SOCK_NONBLOCK : 0);
	int s = sys.socket(c->dest.family, type, 0);

	if (s < 0 && (errno == EMFILE || errno == ENFILE)) {
		/* The pool's own fd for the socket makes room for the new one. */
		conn_drop_shadow(c);
		s = sys.socket(c->dest.family, type, 0);
	}
	if (s >= 0) {
		conn_apply_options(c, s);
		if (sys.dup3(s, fd, cloexec > 0 ? O_CLOEXEC : 0) < 0) {
			sys.close(s);
			s = -1;
		} else {
			sys.close(s);
		}
	}
	if (s < 0) {
		/* Out of memory or of every fd: fd keeps the pooled connection,
		 * which the program may use as its own; it is never pooled. */
		log_warn("fd %d: cannot make a socket to put in place of the pooled one: %s",
			 fd, strerror(errno));
		c->broken = true;
		conn_drop_shadow(c);
	} else if (give && c->shadow >= 0) {
		give_back(ctx, c);
	} else {
		conn_drop_shadow(c);
	}
	stats_count(c->spec.stats, SP_SPECULATION_SETTLED, 1);
	speculation_over(c);
	note_wrong_guess();
	errno = saved_errno;
}

void speculate_abandon(const struct engine_context *ctx, struct conn *c)
{
	int saved_errno = errno;

	if (c->shadow >= 0)
		give_back(ctx, c);
	speculation_over(c);
	errno = saved_errno;
}
