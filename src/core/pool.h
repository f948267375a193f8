/*
 * pool.h: the per-destination cache of idle connections.
 *
 * Invariants:
 *  - An idle socket is a private fd owned by the pool alone: no program fd
 *    refers to its open file description, and the conversation on it is at
 *    a clean HTTP boundary with nothing unread.
 *  - Each destination keeps at most max_idle_per_dest sockets, ordered
 *    oldest first; checkout takes the newest (most recently used), which
 *    is the least likely to have been closed by the server, and leaves the
 *    oldest to expire.
 *  - All destinations together keep at most max_idle; a check-in beyond it
 *    evicts the oldest idle socket of all.
 *  - A socket is handed out only if it has not passed its expiry time and
 *    a non-blocking MSG_PEEK finds nothing to read (no EOF, no stray data,
 *    no error); anything else is closed and counted as stale.
 *  - A program that closes descriptors it does not own ("close every fd
 *    above 2") may close an idle socket's fd, and the number may then be
 *    reused for one of its files.  So the socket's device and inode are recorded at
 *    check-in, and an fd that no longer refers to that socket is dropped without
 *    being closed: the pool never touches a descriptor that is not its own.
 *  - The pool learns how long the server keeps an idle connection: a
 *    socket found closed by the server at checkout had been idle for at
 *    least the server's timeout, so the shortest such idle age bounds it.
 *    From then on sockets to that destination are kept at most 90 % of it.
 *    A restart of the server closes young sockets too and teaches a bound
 *    that is too short; so what was learned is forgotten after
 *    POOL_LEARNED_TTL_MS without a new lesson.
 *  - Each destination also keeps its retry budget (budget.h), and whether
 *    it has ever accepted a connection in this process ("answered"): a
 *    refusal from a destination that never did is an answer, not a
 *    restart (retry.h).  Like the rest of an empty record, this is
 *    forgotten when the record goes as surplus (POOL_KEEP_EMPTY_DESTS).
 *  - Expiry is enforced on any activity of the pool, not only on the
 *    destination's own: the pool keeps one time before which no idle
 *    socket anywhere expires (next_sweep_ms), and looks at every
 *    destination only once that time has passed, at most once per
 *    POOL_SWEEP_GAP_MS.  So check-in and checkout stay O(1), and a
 *    program that goes quiet (reaper.h) is cleaned up from that time too.
 *  - One mutex guards the table.  Under it run close() and fstat() of
 *    idle sockets, a hand-off to the shared pool (give_away, never
 *    waiting), and finding a destination's statistics record, which may
 *    scan the statistics table and take its claim_lock (engine.h has the
 *    lock order).
 */
#ifndef SOCKPOOL_CORE_POOL_H
#define SOCKPOOL_CORE_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "budget.h"
#include "clock.h"
#include "dest.h"
#include "option_value.h"

struct sp_stats_dest;

/* A socket going into or out of the pool. */
struct pool_socket {
	int fd;
	dev_t dev;		/* the socket's identity (device, inode), see */
	ino_t inode;		/* the invariants above; inode 0: not known */
	uint32_t notes;		/* the caller's, given back at checkout, */
	uint64_t digest;	/* as are this */
	struct conn_option options[CONN_CARRIED_MAX];	/* and these */
	uint64_t idle_since_ms;	/* set by checkout: when it was parked, */
	uint64_t expires_ms;	/* and until when the pool would keep it */
	struct sp_stats_dest *stats;	/* the key's statistics record: given
					 * to checkin when known (it saves a
					 * lookup), set by checkout */
	bool unchecked;		/* set by checkout: idle so briefly that its
				 * liveness was not looked at */
};

/* Sockets idle for less than this are handed out without the liveness
 * look (MSG_PEEK): a server closes an idle connection after its idle
 * timeout, seconds at the least, and what it might do sooner (a restart)
 * is met by a replay or a look before a non-idempotent request. */
#define POOL_UNCHECKED_IDLE_MS 250

struct pool_idle {
	struct pool_socket s;
	uint64_t idle_since_ms;
	uint64_t expires_ms;
};

struct pool_dest {
	struct dest_key key;
	unsigned count;
	struct sp_stats_dest *stats;
	uint64_t next_expiry_ms;	/* no idle socket expires before (a bound) */
	uint32_t learned_idle_ms;	/* server's idle timeout, 0: unknown */
	uint64_t learned_at_ms;
	bool answered;		/* a connect to it has succeeded */
	struct retry_budget budget;
	UT_hash_handle hh;
	/* Oldest first; room for cap, grown by doubling as sockets are parked
	 * (up to max_idle_per_dest): a destination that keeps one socket, or
	 * none, takes no room for more. */
	struct pool_idle *idle;
	unsigned cap;
};

/* Where an idle socket the pool lets go of for want of room goes instead
 * of being closed (the shared pool, broker_client.h): it owns s.fd from
 * then on.  Called under pool.lock; must not block. */
typedef bool (*pool_give_away_fn)(const struct dest_key *key, struct pool_socket s,
				  uint64_t idle_since_ms, uint64_t expires_ms);

struct pool {
	pthread_mutex_t lock;
	pool_give_away_fn give_away;	/* NULL: such sockets are closed */
	struct pool_dest *dests;	/* uthash table keyed by dest_key */
	unsigned ndests;
	unsigned total_idle;
	unsigned max_idle_per_dest;
	unsigned max_idle;
	clock_ms_fn now_ms;
	/* No idle socket expires before: a bound, UINT64_MAX with none idle.
	 * Written under the lock, read without it (atomically) by the
	 * reaper. */
	uint64_t next_sweep_ms;
	uint64_t last_sweep_ms;
};

void pool_init(struct pool *p, unsigned max_idle_per_dest, unsigned max_idle,
	       clock_ms_fn now_ms);

/* Gives s.fd (a private, CLOEXEC descriptor) to the pool for key, to be
 * handed out until expires_ms.  s.dev and s.inode, when the caller knows
 * them (from an earlier checkout of the same socket), save an fstat.  The
 * pool owns s.fd from now on: when it cannot keep it, it closes it.
 * requests: made on the socket since last told, as pool_note_requests
 * (told here, it costs no lookup of its own).  0 if kept, -1 if closed. */
int pool_checkin(struct pool *p, const struct dest_key *key, struct pool_socket s,
		 uint64_t expires_ms, uint32_t requests);

/* The newest live idle socket for key, now owned by the caller, with what
 * was given with it; its fd, or -1 when there is none. */
int pool_checkout(struct pool *p, const struct dest_key *key, struct pool_socket *out);

/* The same, but a socket idle for less than POOL_UNCHECKED_IDLE_MS is
 * handed out without its liveness look (out->unchecked): for a blocking
 * program, whose requests sockpool can replay or look at before a
 * non-idempotent one (retry.h). */
int pool_checkout_recent(struct pool *p, const struct dest_key *key, struct pool_socket *out);

/* Gives back s, taken out by a checkout and not used (its private fd
 * untouched but for the caller's record in s): it goes back in its place
 * with its idle time and expiry, or is closed if it has expired. */
void pool_put_back(struct pool *p, const struct dest_key *key, struct pool_socket s);

/* Whether socket fd, idle, is alive and at a clean boundary: a
 * non-blocking MSG_PEEK finds nothing to read, no end-of-file, no error. */
bool pool_socket_looks_alive(int fd);

/* The engine saw a socket to key that had been idle for idle_age_ms fail
 * as if closed by the server. */
void pool_learn_idle_timeout(struct pool *p, const struct dest_key *key,
			     uint64_t idle_age_ms);

/* How long the server for key is known to keep an idle connection (what
 * was learned, not the margin under it); 0 when nothing is known. */
uint32_t pool_learned_idle_timeout(struct pool *p, const struct dest_key *key);

/* The program made n more requests to key (for the retry budget). */
void pool_note_requests(struct pool *p, const struct dest_key *key, uint32_t n);

/* Takes one retry from key's budget; false when it is spent. */
bool pool_take_retry(struct pool *p, const struct dest_key *key, unsigned percent);

/* The idle fds from first to last were closed behind the pool's back
 * (close_range): it forgets them without closing anything. */
void pool_forget_fds(struct pool *p, unsigned int first, unsigned int last);

/* From now on the pool keeps at most max_idle sockets in all; the oldest
 * beyond it are closed now (the program's fd limit was lowered). */
void pool_set_max_idle(struct pool *p, unsigned max_idle);

/* Closes every idle socket, for a program that ran out of descriptors;
 * what each destination learned stays.  How many were closed. */
unsigned pool_close_all_idle(struct pool *p);

/* A connect to key succeeded: key has answered (see the invariants).
 * stats: key's statistics record if the caller has it, else NULL. */
void pool_note_answered(struct pool *p, const struct dest_key *key,
			struct sp_stats_dest *stats);

/* Whether a connect to key has succeeded in this process (as far as the
 * pool still remembers key). */
bool pool_dest_answered(struct pool *p, const struct dest_key *key);

/* Closes the idle sockets of every destination that have expired, if
 * the time for that has come (next_sweep_ms). */
void pool_close_expired(struct pool *p);

/* When pool_close_expired next has something to do (a lower bound, in
 * the pool's clock); UINT64_MAX when no socket is idle.  Takes no lock. */
uint64_t pool_next_sweep_ms(const struct pool *p);

/* Idle sockets kept for key. */
unsigned pool_idle_count(struct pool *p, const struct dest_key *key);

/* Hands every idle socket to p->give_away (the process is ending). */
void pool_give_all_away(struct pool *p);

/* Closes every idle socket and frees the table. */
void pool_clear(struct pool *p);

/* In a child after fork(): forgets the table without touching its lock,
 * which another parent thread may have held, and closes the child's copies
 * of the idle fds so that parent and child never share a pooled socket. */
void pool_reset_after_fork(struct pool *p);

#endif
