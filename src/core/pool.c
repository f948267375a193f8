/*
 * pool.c: the idle connection cache; its invariants are in pool.h.
 *
 * Each destination holds its idle sockets in a small array, oldest first,
 * so that check-out (newest) is a pop from the end and expiry trims from
 * the front.  Destinations live in a uthash table.  Empty destinations are
 * kept for reuse while there are few of them and freed beyond that, so a
 * program that talks to many hosts does not grow the table without bound.
 */
#include "pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fd_identity.h"
#include "fdtab.h"
#include "../stats/stats_writer.h"
#include "sys.h"

/* uthash hashes keys byte by byte (Jenkins): for a 24-byte key that is a
 * few hundred instructions, and every checkout and check-in hashes once.
 * A dest_key is three words with its unused bytes zero (dest.h): mixed by
 * multiplication, the high half of the product picks the bucket.  Keys
 * come from the program's own connects, not from a peer: no flooding to
 * fear. */
_Static_assert(sizeof(struct dest_key) == 3 * sizeof(uint64_t), "three words");
static unsigned dest_key_hash(const void *key)
{
	uint64_t w[3], h;

	memcpy(w, key, sizeof(w));
	h = (w[0] * 0x9e3779b97f4a7c15ULL) ^ (w[1] * 0xc2b2ae3d27d4eb4fULL) ^
	    (w[2] * 0x165667b19e3779f9ULL);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (unsigned)(h >> 32);
}
#undef HASH_FUNCTION
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = dest_key_hash(keyptr))

#define POOL_KEEP_EMPTY_DESTS 64
/* Destinations with something to remember (a learned timeout, recent
 * retries) are kept even when empty, up to this many. */
#define POOL_REMEMBER_DESTS 4096
#define POOL_LEARNED_TTL_MS (5u * 60u * 1000u)
/* The whole table is looked at for expired sockets at most this often:
 * with sockets expiring one after the other, a sweep per expiry would
 * make every check-in O(destinations).  A socket may outlive its expiry
 * by this much (a checkout never hands out an expired one regardless). */
#define POOL_SWEEP_GAP_MS 50

void pool_init(struct pool *p, unsigned max_idle_per_dest, unsigned max_idle,
	       clock_ms_fn now_ms)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->max_idle_per_dest = max_idle_per_dest;
	p->max_idle = max_idle;
	p->now_ms = now_ms;
	p->next_sweep_ms = UINT64_MAX;
}

static struct pool_dest *dest_find(struct pool *p, const struct dest_key *key)
{
	struct pool_dest *d = NULL;

	HASH_FIND(hh, p->dests, key, sizeof(*key), d);
	return d;
}

/* stats: key's statistics record if the caller has it, else NULL (it is
 * looked up, at a cost that grows with the destinations). */
static struct pool_dest *dest_find_or_add(struct pool *p, const struct dest_key *key,
					  struct sp_stats_dest *stats)
{
	struct pool_dest *d = dest_find(p, key);

	if (d != NULL)
		return d;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->key = *key;
	d->next_expiry_ms = UINT64_MAX;
	d->stats = stats != NULL ? stats : stats_writer_dest(key);
	budget_init(&d->budget, p->now_ms());
	HASH_ADD(hh, p->dests, key, sizeof(d->key), d);
	p->ndests++;
	return d;
}

static bool dest_remembers(const struct pool_dest *d)
{
	return d->learned_idle_ms != 0 || d->budget.retries[0] != 0 ||
	       d->budget.retries[1] != 0;
}

static void dest_free_if_surplus(struct pool *p, struct pool_dest *d)
{
	if (d->count != 0 || p->ndests <= POOL_KEEP_EMPTY_DESTS)
		return;
	if (dest_remembers(d) && p->ndests <= POOL_REMEMBER_DESTS)
		return;
	HASH_DEL(p->dests, d);
	p->ndests--;
	free(d->idle);
	free(d);
}

/* Whether idle.s.fd still refers to the socket checked in: a socket with
 * the same device and inode, as recorded by pool_checkin(). */
static bool idle_still_ours(struct pool_idle idle)
{
	return idle.s.inode != 0 && (fdtab_private_trusted(idle.s.fd) ||
				     fd_holds_socket(idle.s.fd, idle.s.dev, idle.s.inode));
}

/* Closes an idle socket, unless its fd has become someone else's. */
static void idle_close(struct pool_idle idle)
{
	if (idle_still_ours(idle))
		sys.close(idle.s.fd);
}

/* An idle socket the pool has no room for: given away when there is
 * somewhere to give it (pool.h), else closed. */
static void idle_let_go(struct pool *p, const struct pool_dest *d, struct pool_idle idle)
{
	if (p->give_away == NULL || !idle_still_ours(idle))
		idle_close(idle);
	else
		(void)p->give_away(&d->key, idle.s, idle.idle_since_ms, idle.expires_ms);
}

/* Removes idle[i] from d, returning it; the caller closes or hands it out. */
static struct pool_idle dest_take(struct pool *p, struct pool_dest *d, unsigned i)
{
	struct pool_idle taken = d->idle[i];

	memmove(&d->idle[i], &d->idle[i + 1], (d->count - i - 1) * sizeof(d->idle[0]));
	d->count--;
	p->total_idle--;
	stats_count(d->stats, SP_IDLE_NOW, -1);
	return taken;
}

/* How long sockets to d may stay idle by what was learned; UINT64_MAX if
 * nothing (still) is. */
static uint64_t dest_learned_keep_ms(struct pool_dest *d, uint64_t now)
{
	if (d->learned_idle_ms != 0 && now - d->learned_at_ms >= POOL_LEARNED_TTL_MS)
		d->learned_idle_ms = 0;
	if (d->learned_idle_ms == 0)
		return UINT64_MAX;
	return (uint64_t)d->learned_idle_ms * 9 / 10;
}

/* Expiry times follow each connection's server (Keep-Alive: timeout), so
 * a newer socket may expire before an older one: every one is checked,
 * against its own expiry and against what was learned since it came. */
static void dest_close_expired(struct pool *p, struct pool_dest *d, uint64_t now)
{
	uint64_t keep = dest_learned_keep_ms(d, now);
	uint64_t next = UINT64_MAX;

	/* Nothing to do, and no scan, while the earliest expiry is ahead and
	 * the oldest socket (idle[0]) is younger than what was learned: this
	 * keeps checkout and check-in O(1) however many sockets are idle. */
	if (now < d->next_expiry_ms && (d->count == 0 || now - d->idle[0].idle_since_ms < keep))
		return;
	for (unsigned i = 0; i < d->count;) {
		if (d->idle[i].expires_ms <= now || now - d->idle[i].idle_since_ms >= keep) {
			idle_close(dest_take(p, d, i));
		} else {
			if (d->idle[i].expires_ms < next)
				next = d->idle[i].expires_ms;
			i++;
		}
	}
	d->next_expiry_ms = next;
}

/* When d's next idle socket must go: the earliest expiry, or the oldest
 * socket's limit by what was learned; UINT64_MAX with none idle. */
static uint64_t dest_due_ms(struct pool_dest *d, uint64_t now)
{
	uint64_t keep, due;

	if (d->count == 0)
		return UINT64_MAX;
	due = d->next_expiry_ms;
	keep = dest_learned_keep_ms(d, now);
	if (keep != UINT64_MAX && d->idle[0].idle_since_ms + keep < due)
		due = d->idle[0].idle_since_ms + keep;
	return due;
}

static void pool_set_next_sweep(struct pool *p, uint64_t due)
{
	if (due != UINT64_MAX && due < p->last_sweep_ms + POOL_SWEEP_GAP_MS)
		due = p->last_sweep_ms + POOL_SWEEP_GAP_MS;
	/* seq_cst: the reaper's wake-up protocol relies on it (reaper.c). */
	__atomic_store_n(&p->next_sweep_ms, due, __ATOMIC_SEQ_CST);
}

/* A socket of d may now have to go sooner than the pool thought. */
static void pool_lower_next_sweep(struct pool *p, struct pool_dest *d, uint64_t now)
{
	uint64_t due = dest_due_ms(d, now);

	if (due < p->next_sweep_ms)
		pool_set_next_sweep(p, due);
}

/* Once the pool's earliest expiry has passed: closes what expired in
 * every destination, frees destinations that became surplus, and finds
 * the next expiry.  Checkouts leave the bound where it was (a socket
 * taken out may have been the one due), so a sweep may find nothing. */
static void pool_sweep_if_due(struct pool *p, uint64_t now)
{
	struct pool_dest *d, *tmp;
	uint64_t next = UINT64_MAX;

	if (now < p->next_sweep_ms)
		return;
	p->last_sweep_ms = now;
	HASH_ITER(hh, p->dests, d, tmp) {
		uint64_t due;

		dest_close_expired(p, d, now);
		due = dest_due_ms(d, now);
		if (due < next)
			next = due;
		dest_free_if_surplus(p, d);
	}
	pool_set_next_sweep(p, next);
}

/* Makes room for one more idle socket in all: closes the oldest idle
 * socket of all destinations, and frees its destination if that left it
 * empty and surplus (unless it is keep, which the caller is filling).
 * Runs only when the pool is full. */
static void pool_evict_oldest(struct pool *p, struct pool_dest *keep)
{
	struct pool_dest *d, *tmp, *oldest = NULL;

	HASH_ITER(hh, p->dests, d, tmp) {
		if (d->count > 0 && (oldest == NULL ||
				     d->idle[0].idle_since_ms < oldest->idle[0].idle_since_ms))
			oldest = d;
	}
	if (oldest == NULL)
		return;
	idle_let_go(p, oldest, dest_take(p, oldest, 0));
	if (oldest != keep)
		dest_free_if_surplus(p, oldest);
}

/* Room in d for one more idle socket than it holds. */
static bool dest_grow(const struct pool *p, struct pool_dest *d)
{
	unsigned cap = d->cap == 0 ? 2 : d->cap * 2;
	struct pool_idle *idle;

	if (d->count < d->cap)
		return true;
	if (cap > p->max_idle_per_dest)
		cap = p->max_idle_per_dest;
	idle = realloc(d->idle, cap * sizeof(*idle));
	if (idle == NULL)
		return false;
	d->idle = idle;
	d->cap = cap;
	return true;
}

/* Adds idle to d in its place by age (oldest first: a socket parked now
 * goes at the end), making room first; false (nothing added) when memory
 * is short.  Caller holds p->lock. */
static bool dest_insert(struct pool *p, struct pool_dest *d, struct pool_idle idle, uint64_t now)
{
	unsigned i;

	if (d->count == p->max_idle_per_dest)
		idle_let_go(p, d, dest_take(p, d, 0));
	else if (p->total_idle >= p->max_idle)
		pool_evict_oldest(p, d);
	if (!dest_grow(p, d))
		return false;
	for (i = d->count; i > 0 && d->idle[i - 1].idle_since_ms > idle.idle_since_ms; i--)
		;
	memmove(&d->idle[i + 1], &d->idle[i], (d->count - i) * sizeof(d->idle[0]));
	d->idle[i] = idle;
	d->count++;
	if (idle.expires_ms < d->next_expiry_ms)
		d->next_expiry_ms = idle.expires_ms;
	pool_lower_next_sweep(p, d, now);
	p->total_idle++;
	stats_count(d->stats, SP_IDLE_NOW, 1);
	return true;
}

int pool_checkin(struct pool *p, const struct dest_key *key, struct pool_socket s,
		 uint64_t expires_ms, uint32_t requests)
{
	uint64_t now = p->now_ms();
	struct pool_dest *d;
	struct stat st;

	if (p->max_idle_per_dest == 0 || p->max_idle == 0 || expires_ms <= now)
		goto refuse;
	if (s.inode == 0) {
		if (fstat(s.fd, &st) != 0 || !S_ISSOCK(st.st_mode))
			goto refuse;
		s.dev = st.st_dev;
		s.inode = st.st_ino;
	}
	pthread_mutex_lock(&p->lock);
	pool_sweep_if_due(p, now);
	d = dest_find_or_add(p, key, s.stats);
	if (d == NULL) {
		pthread_mutex_unlock(&p->lock);
		goto refuse;
	}
	d->answered = true;	/* it carried an exchange */
	if (requests != 0)
		budget_note_requests(&d->budget, now, requests);
	requests = 0;
	dest_close_expired(p, d, now);
	if (dest_learned_keep_ms(d, now) == 0) {
		pthread_mutex_unlock(&p->lock);
		goto refuse;
	}
	if (!dest_insert(p, d, (struct pool_idle){ .s = s, .idle_since_ms = now,
						   .expires_ms = expires_ms }, now)) {
		pthread_mutex_unlock(&p->lock);
		goto refuse;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
refuse:
	sys.close(s.fd);
	pool_note_requests(p, key, requests);
	return -1;
}

void pool_put_back(struct pool *p, const struct dest_key *key, struct pool_socket s)
{
	uint64_t now = p->now_ms();
	struct pool_dest *d;

	pthread_mutex_lock(&p->lock);
	d = dest_find_or_add(p, key, s.stats);
	if (d == NULL || s.expires_ms <= now || now - s.idle_since_ms >= dest_learned_keep_ms(d, now)) {
		pthread_mutex_unlock(&p->lock);
		sys.close(s.fd);
		return;
	}
	if (!dest_insert(p, d, (struct pool_idle){ .s = s, .idle_since_ms = s.idle_since_ms,
						   .expires_ms = s.expires_ms }, now)) {
		pthread_mutex_unlock(&p->lock);
		sys.close(s.fd);
		return;
	}
	pthread_mutex_unlock(&p->lock);
}

bool pool_socket_looks_alive(int fd)
{
	char byte;
	ssize_t n = sys.recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static int checkout(struct pool *p, const struct dest_key *key, struct pool_socket *out,
		    bool may_skip_look)
{
	int saved_errno = errno;

	for (;;) {
		struct pool_dest *d;
		struct pool_idle idle;
		struct sp_stats_dest *stats;
		uint64_t now = p->now_ms();
		bool unchecked;

		pthread_mutex_lock(&p->lock);
		pool_sweep_if_due(p, now);
		d = dest_find(p, key);
		if (d != NULL)
			dest_close_expired(p, d, now);
		if (d == NULL || d->count == 0) {
			if (d != NULL)
				dest_free_if_surplus(p, d);
			pthread_mutex_unlock(&p->lock);
			errno = saved_errno;
			return -1;
		}
		idle = dest_take(p, d, d->count - 1);
		stats = d->stats;
		pthread_mutex_unlock(&p->lock);

		if (!idle_still_ours(idle))
			continue;	/* closed behind our back: not ours to close */
		/* A socket parked a moment ago is not looked at: what its
		 * server could have done since is rare, and met later (a
		 * replay for an idempotent request; a look before the first
		 * non-idempotent one, retry.h). */
		unchecked = may_skip_look && now - idle.idle_since_ms < POOL_UNCHECKED_IDLE_MS;
		if (unchecked || pool_socket_looks_alive(idle.s.fd)) {
			*out = idle.s;
			out->unchecked = unchecked;
			out->idle_since_ms = idle.idle_since_ms;
			out->expires_ms = idle.expires_ms;
			out->stats = stats;
			errno = saved_errno;
			return idle.s.fd;
		}
		stats_count(stats, SP_STALE_DISCARDED, 1);
		sys.close(idle.s.fd);
		pool_learn_idle_timeout(p, key, now - idle.idle_since_ms);
	}
}

int pool_checkout(struct pool *p, const struct dest_key *key, struct pool_socket *out)
{
	return checkout(p, key, out, false);
}

int pool_checkout_recent(struct pool *p, const struct dest_key *key, struct pool_socket *out)
{
	return checkout(p, key, out, true);
}

void pool_learn_idle_timeout(struct pool *p, const struct dest_key *key,
			     uint64_t idle_age_ms)
{
	uint64_t now = p->now_ms();
	struct pool_dest *d;

	if (idle_age_ms == 0)
		return;
	if (idle_age_ms > UINT32_MAX)
		idle_age_ms = UINT32_MAX;
	pthread_mutex_lock(&p->lock);
	d = dest_find_or_add(p, key, NULL);
	if (d != NULL) {
		(void)dest_learned_keep_ms(d, now);	/* forgets a stale lesson */
		if (d->learned_idle_ms == 0 || idle_age_ms < d->learned_idle_ms)
			d->learned_idle_ms = (uint32_t)idle_age_ms;
		d->learned_at_ms = now;
		/* Sockets already parked for longer than the new limit go now. */
		dest_close_expired(p, d, now);
		pool_lower_next_sweep(p, d, now);
	}
	pthread_mutex_unlock(&p->lock);
}

uint32_t pool_learned_idle_timeout(struct pool *p, const struct dest_key *key)
{
	uint64_t now = p->now_ms();
	struct pool_dest *d;
	uint32_t learned = 0;

	pthread_mutex_lock(&p->lock);
	d = dest_find(p, key);
	if (d != NULL && dest_learned_keep_ms(d, now) != UINT64_MAX)
		learned = d->learned_idle_ms;
	pthread_mutex_unlock(&p->lock);
	return learned;
}

void pool_note_requests(struct pool *p, const struct dest_key *key, uint32_t n)
{
	uint64_t now = p->now_ms();
	struct pool_dest *d;

	if (n == 0)
		return;
	pthread_mutex_lock(&p->lock);
	d = dest_find_or_add(p, key, NULL);
	if (d != NULL)
		budget_note_requests(&d->budget, now, n);
	pthread_mutex_unlock(&p->lock);
}

bool pool_take_retry(struct pool *p, const struct dest_key *key, unsigned percent)
{
	uint64_t now = p->now_ms();
	struct pool_dest *d;
	bool allowed = false;

	pthread_mutex_lock(&p->lock);
	d = dest_find_or_add(p, key, NULL);
	if (d != NULL)
		allowed = budget_take_retry(&d->budget, now, percent);
	pthread_mutex_unlock(&p->lock);
	return allowed;
}

void pool_note_answered(struct pool *p, const struct dest_key *key,
			struct sp_stats_dest *stats)
{
	struct pool_dest *d;

	pthread_mutex_lock(&p->lock);
	d = dest_find_or_add(p, key, stats);
	if (d != NULL)
		d->answered = true;
	pthread_mutex_unlock(&p->lock);
}

bool pool_dest_answered(struct pool *p, const struct dest_key *key)
{
	struct pool_dest *d;
	bool answered;

	pthread_mutex_lock(&p->lock);
	d = dest_find(p, key);
	answered = d != NULL && d->answered;
	pthread_mutex_unlock(&p->lock);
	return answered;
}

void pool_close_expired(struct pool *p)
{
	uint64_t now = p->now_ms();

	pthread_mutex_lock(&p->lock);
	pool_sweep_if_due(p, now);
	pthread_mutex_unlock(&p->lock);
}

uint64_t pool_next_sweep_ms(const struct pool *p)
{
	return __atomic_load_n(&p->next_sweep_ms, __ATOMIC_SEQ_CST);
}

void pool_forget_fds(struct pool *p, unsigned int first, unsigned int last)
{
	struct pool_dest *d, *tmp;

	pthread_mutex_lock(&p->lock);
	HASH_ITER(hh, p->dests, d, tmp) {
		for (unsigned i = 0; i < d->count;) {
			unsigned int fd = (unsigned int)d->idle[i].s.fd;

			if (fd >= first && fd <= last)
				(void)dest_take(p, d, i);
			else
				i++;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

/* Closes the oldest idle sockets until at most keep remain.  Caller holds
 * p->lock.  How many were closed. */
static unsigned pool_trim_to(struct pool *p, unsigned keep)
{
	unsigned closed = 0;

	while (p->total_idle > keep) {
		unsigned before = p->total_idle;

		pool_evict_oldest(p, NULL);
		if (p->total_idle == before)
			break;
		closed++;
	}
	return closed;
}

void pool_set_max_idle(struct pool *p, unsigned max_idle)
{
	pthread_mutex_lock(&p->lock);
	p->max_idle = max_idle;
	pool_trim_to(p, max_idle);
	pthread_mutex_unlock(&p->lock);
}

unsigned pool_close_all_idle(struct pool *p)
{
	unsigned closed;

	pthread_mutex_lock(&p->lock);
	closed = pool_trim_to(p, 0);
	pthread_mutex_unlock(&p->lock);
	return closed;
}

unsigned pool_idle_count(struct pool *p, const struct dest_key *key)
{
	struct pool_dest *d;
	unsigned n;

	pthread_mutex_lock(&p->lock);
	d = dest_find(p, key);
	n = d != NULL ? d->count : 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void pool_give_all_away(struct pool *p)
{
	struct pool_dest *d, *tmp;
	uint64_t now = p->now_ms();

	if (p->give_away == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	HASH_ITER(hh, p->dests, d, tmp) {
		dest_close_expired(p, d, now);
		while (d->count > 0)
			idle_let_go(p, d, dest_take(p, d, d->count - 1));
	}
	pthread_mutex_unlock(&p->lock);
}

static void pool_free_all(struct pool *p)
{
	struct pool_dest *d, *tmp;

	HASH_ITER(hh, p->dests, d, tmp) {
		while (d->count > 0)
			idle_close(dest_take(p, d, d->count - 1));
		HASH_DEL(p->dests, d);
		free(d->idle);
		free(d);
	}
	p->ndests = 0;
	pool_set_next_sweep(p, UINT64_MAX);
}

void pool_clear(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	pool_free_all(p);
	pthread_mutex_unlock(&p->lock);
}

void pool_reset_after_fork(struct pool *p)
{
	pthread_mutex_init(&p->lock, NULL);
	pool_free_all(p);
}
