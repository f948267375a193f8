/*
 * engine.c: what happens on socket, connect, close and the rest (see
 * engine.h), built from the pool, the conns and the configuration.
 *
 * The life of a pooled connection, as this file sees it:
 *   socket()  -> a CANDIDATE conn for every TCP socket
 *   connect() -> eligible destination: take an idle socket from the pool
 *                and move it onto the program's fd (MANAGED, reused), or
 *                connect for real (MANAGED, fresh); otherwise forget the fd
 *   I/O       -> conn.c follows the HTTP conversation
 *   close()   -> at a clean boundary: a private high CLOEXEC dup goes to
 *                the pool, then the program's fd is closed either way
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../stats/stats_dead.h"
#include "../stats/stats_writer.h"
#include "broker_client.h"
#include "clock.h"
#include "conn.h"
#include "engine_context.h"
#include "engine_process.h"
#include "fd_budget.h"
#include "fdtab.h"
#include "log.h"
#include "log_file.h"
#include "option_report.h"
#include "park.h"
#include "pool.h"
#include "reaper.h"
#include "retry.h"
#include "speculate.h"
#include "sys.h"
#include "vfork_gate.h"

/* The largest fd table we reserve, whatever RLIMIT_NOFILE allows. */
#define ENGINE_MAX_TABLE_FDS (1u << 20)

static struct config cfg;
static struct pool pool;
/* The statistics segment is made when the process first manages a
 * connection: a program that never does leaves no file behind. */
static char stats_program[SP_STATS_PROGRAM_MAX];
static pthread_mutex_t stats_open_lock = PTHREAD_MUTEX_INITIALIZER;
static bool stats_tried;
/* A child of ours may have left a segment (workers ending with _exit()). */
static bool forked_children;
static bool active;
static unsigned configured_max_idle;	/* SOCKPOOL_MAX_IDLE, before the fd limit */
static int private_fd_floor;	/* see fd_budget.h; changes with the limit */
static int fd_high_water;	/* highest fd that ever had a conn */

const struct config *engine_config(void)
{
	return &cfg;
}

bool engine_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

static uint64_t engine_now_ms(void)
{
	return clock_monotonic_ms();
}

/* SOCKPOOL_LOG_FILE on a private fd where the pool's go (log_file.h);
 * when it cannot be opened, stderr and one warning saying why. */
static void open_log(void)
{
	int fd, err;

	log_setup(cfg.log_level, 2);
	if (cfg.log_file[0] == '\0')
		return;
	fd = log_file_open(cfg.log_file, private_fd_floor);
	if (fd >= 0 && log_setup_private(cfg.log_level, fd) == 0)
		return;
	err = errno;
	if (fd >= 0)
		sys.close(fd);
	log_warn("cannot open SOCKPOOL_LOG_FILE %s: %s%s; logging to stderr", cfg.log_file,
		 strerror(err), err == ENXIO ? " (a FIFO with no reader, or a socket)" : "");
}

static int private_fd_floor_now(void)
{
	return __atomic_load_n(&private_fd_floor, __ATOMIC_RELAXED);
}

/* What the engine's parts work with (engine_context.h). */
static const struct engine_context context = {
	.pool = &pool, .cfg = &cfg, .now_ms = engine_now_ms,
	.private_fd_floor = private_fd_floor_now, .move_socket_onto = conn_move_socket_onto,
};

const struct engine_context *engine_context(void)
{
	return &context;
}

/* Pooled sockets spend the program's fd budget (fd_budget.h), as the
 * soft limit is now.  Returns the idle sockets the pool may keep. */
unsigned engine_follow_fd_limit(void)
{
	struct rlimit rl;
	rlim_t soft = 1024;
	struct fd_budget b;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		soft = rl.rlim_cur;
	b = fd_budget_for_limit(soft, configured_max_idle);
	__atomic_store_n(&private_fd_floor, b.private_floor, __ATOMIC_RELAXED);
	return b.max_idle;
}

static size_t table_size_for_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max > ENGINE_MAX_TABLE_FDS)
		return ENGINE_MAX_TABLE_FDS;
	return rl.rlim_max < 1024 ? 1024 : (size_t)rl.rlim_max;
}

/* A non-blocking connect of c's went through: its destination answered.
 * Caller holds c->lock (conn, then pool). */
static void note_connect_succeeded(struct conn *c)
{
	pool_note_answered(&pool, &c->dest, c->stats);
}

void engine_start(config_getenv_fn getenv_fn, const char *program)
{
	char err[256];

	if (config_load(&cfg, getenv_fn, err, sizeof(err)) != 0) {
		log_setup(LOG_LEVEL_WARN, 2);
		log_error("%s; sockpool is off for this process", err);
		return;
	}
	/* First: the log file's fd goes high too, where the pool's go. */
	configured_max_idle = cfg.max_idle;
	cfg.max_idle = engine_follow_fd_limit();
	open_log();
	if (cfg.disabled)
		return;
	if (fdtab_init(table_size_for_fd_limit()) != 0) {
		log_error("cannot reserve the fd table: %s; sockpool is off", strerror(errno));
		return;
	}
	vfork_gate_note_own_pid();
	pool_init(&pool, cfg.max_idle_per_dest, cfg.max_idle, engine_now_ms);
	conn_replay_max = cfg.replay_max_bytes;
	conn_now_ms = engine_now_ms;
	conn_connect_succeeded = note_connect_succeeded;
	reaper_init(&pool);
	/* SOCKPOOL_BROKER: sockets the pool lets go of go to the shared pool. */
	broker_client_start(getenv_fn);
	if (broker_client_enabled())
		pool.give_away = broker_client_give;
	snprintf(stats_program, sizeof(stats_program), "%s", program != NULL ? program : "?");
	__atomic_store_n(&active, true, __ATOMIC_RELEASE);
	log_info("active: %u idle per destination, %u in all, idle timeout %u ms",
		 cfg.max_idle_per_dest, cfg.max_idle, cfg.idle_timeout_ms);
}

static const char *stats_dir(void)
{
	return cfg.stats_dir[0] != '\0' ? cfg.stats_dir : "/dev/shm";
}

/* Removes what processes of ours that ended by _exit() or a signal left
 * (stats_dead.h).  Not when segments are kept on purpose: the segments of
 * `sockpool --summary`'s killed processes still count. */
static void sweep_dead_segments(void)
{
	if (cfg.stats && !cfg.stats_keep)
		segments_sweep_dead(stats_dir());
}

void engine_stop(void)
{
	if (!engine_active() || engine_in_vfork_child())
		return;
	/* The process is ending: its idle sockets go to the shared pool. */
	pool_give_all_away(&pool);
	stats_writer_close(cfg.stats_keep);
	if (__atomic_load_n(&stats_tried, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&forked_children, __ATOMIC_RELAXED))
		sweep_dead_segments();
}

static void stats_open_once(void)
{
	if (__atomic_load_n(&stats_tried, __ATOMIC_ACQUIRE) || !cfg.stats)
		return;
	pthread_mutex_lock(&stats_open_lock);
	if (!stats_tried && stats_writer_open(stats_dir(), stats_program) != 0)
		log_warn("cannot create the statistics segment in %s: %s; no statistics",
			 stats_dir(), strerror(errno));
	else if (!stats_tried)
		sweep_dead_segments();
	__atomic_store_n(&stats_tried, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&stats_open_lock);
}

static void forget_fd(int fd)
{
	struct conn *c = fdtab_take(fd);

	if (c == NULL)
		return;
	if (__atomic_load_n(&c->state, __ATOMIC_RELAXED) == CONN_SPECULATIVE) {
		pthread_mutex_lock(&c->lock);
		if (c->state == CONN_SPECULATIVE)
			speculate_abandon(&context, c);	/* its socket goes back */
		pthread_mutex_unlock(&c->lock);
	}
	conn_release(c);
}

void engine_fd_reused(int fd)
{
	if (fd >= 0 && !engine_in_vfork_child())
		forget_fd(fd);
}

/* Shadows (conn.h) numbered first to last are closed already. */
static void forget_shadows(unsigned int first, unsigned int last)
{
	int high = __atomic_load_n(&fd_high_water, __ATOMIC_RELAXED);

	for (int fd = 0; fd <= high; fd++) {
		struct conn_ref ref = conn_ref_of_fd(fd);

		if (ref.conn == NULL || !conn_ref_lock(ref))
			continue;
		if (ref.conn->shadow >= 0 && (unsigned int)ref.conn->shadow >= first &&
		    (unsigned int)ref.conn->shadow <= last)
			ref.conn->shadow = -1;
		pthread_mutex_unlock(&ref.conn->lock);
	}
}

unsigned engine_drop_shadows(void)
{
	int high = __atomic_load_n(&fd_high_water, __ATOMIC_RELAXED);
	unsigned dropped = 0;

	for (int fd = 0; fd <= high; fd++) {
		struct conn_ref ref = conn_ref_of_fd(fd);

		if (ref.conn == NULL || !conn_ref_lock(ref))
			continue;
		dropped += ref.conn->shadow >= 0;
		conn_drop_shadow(ref.conn);
		pthread_mutex_unlock(&ref.conn->lock);
	}
	return dropped;
}

void engine_fds_closed(unsigned int first, unsigned int last)
{
	unsigned int high = (unsigned int)__atomic_load_n(&fd_high_water, __ATOMIC_RELAXED);

	/* A vfork child closes its own copies: the parent's stay open. */
	if (!engine_active() || engine_in_vfork_child())
		return;
	/* Shadows first: a speculative socket whose fd went goes back to the
	 * pool only if its shadow did not go too. */
	forget_shadows(first, last);
	for (unsigned int fd = first; fd <= last && fd <= high; fd++)
		if (fdtab_get((int)fd) != NULL)
			forget_fd((int)fd);
	pool_forget_fds(&pool, first, last);
}

void engine_fds_passed(const struct msghdr *msg, bool received)
{
	/* Numbers a vfork child received are its own; a socket it sent is
	 * shared with another process all the same. */
	if (!engine_active() || (received && engine_in_vfork_child()))
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		size_t n;
		int *fds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, &fds[i], sizeof(fd));	/* may be unaligned */
			if (fdtab_get(fd) == NULL)
				continue;
			if (received)
				forget_fd(fd);
			else
				conn_note_shared(conn_ref_of_fd(fd));
		}
	}
}

/* An idle socket for key from this process's pool; one just parked goes
 * back to a blocking program without the liveness look (pool.h). */
static int pool_take(const struct dest_key *key, struct pool_socket *idle, bool blocking)
{
	return blocking ? pool_checkout_recent(&pool, key, idle) : pool_checkout(&pool, key, idle);
}

static bool is_tcp_socket(int domain, int type, int protocol)
{
	return (domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

static void note_high_water(int fd)
{
	if (fd > __atomic_load_n(&fd_high_water, __ATOMIC_RELAXED))
		__atomic_store_n(&fd_high_water, fd, __ATOMIC_RELAXED);
}

void engine_socket_created(int fd, int domain, int type, int protocol)
{
	struct conn *c;

	engine_fd_reused(fd);
	if (fd < 0 || !engine_active() || engine_in_vfork_child() ||
	    !is_tcp_socket(domain, type, protocol))
		return;
	c = conn_acquire();
	if (c == NULL)
		return;
	c->fd = fd;
	c->nonblock = (type & SOCK_NONBLOCK) != 0;
	c->cloexec = (type & SOCK_CLOEXEC) != 0;
	if (!fdtab_set(fd, c)) {
		conn_release(c);
		return;
	}
	note_high_water(fd);
}

int engine_socket_speculate(int domain, int type, int protocol)
{
	struct pool_socket idle;
	struct dest_key key;
	struct conn *c;
	int fd;

	if (!engine_active() || !cfg.speculate || !is_tcp_socket(domain, type, protocol) ||
	    engine_in_vfork_child() || !speculate_worth_trying(domain, &key))
		return -1;
	if (pool_take(&key, &idle, !(type & SOCK_NONBLOCK)) < 0)
		return -1;
	c = conn_acquire();
	if (c == NULL) {
		pool_put_back(&pool, &key, idle);
		return -1;
	}
	fd = speculate_hand_out(&context, c, type, &key, idle);
	if (fd < 0) {
		conn_release(c);
		return -1;
	}
	engine_fd_reused(fd);	/* whatever the table still held for the number */
	if (!fdtab_set(fd, c)) {
		speculate_settle(&context, c, fd, true);
		conn_release(c);
		return fd;
	}
	note_high_water(fd);
	return fd;
}

void engine_socket_bound(int fd)
{
	/* A source address or port the program chose: its connection is not
	 * interchangeable with another, so it is left alone for life. */
	if (fd >= 0 && !engine_in_vfork_child())
		forget_fd(fd);
}

/* Moves pooled socket idle_fd onto the program's fd, which becomes that
 * connection.  Returns the fd's file status flags (F_GETFL), or -1
 * leaving fd as it was; idle_fd is closed either way. */
static int adopt_idle_socket(struct conn *c, int fd, const struct dest_key *key,
			     const struct pool_socket *idle)
{
	int status_flags;

	pthread_mutex_lock(&c->lock);
	c->dest = *key;	/* the family of the defaults read (conn.h) */
	status_flags = conn_copy_socket_state(c, fd, idle->fd, idle->notes, idle->digest);
	c->idle_since_ms = idle->idle_since_ms;
	c->liveness_unchecked = idle->unchecked;
	if (conn_adopt_socket_onto(idle->fd, fd, c) != 0)
		status_flags = -1;
	c->dev = idle->dev;	/* the socket now under fd */
	c->inode = idle->inode;
	pthread_mutex_unlock(&c->lock);
	return status_flags;
}

/* connecting: its non-blocking connect is under way (conn.h).  stats, for
 * a socket reused from the pool: key's statistics record as the pool has
 * it (NULL when the segment has no room for key: looking again would only
 * scan the full table again).  A new connection looks it up. */
static void become_managed(struct conn *c, const struct dest_key *key, bool reused,
			   bool connecting, struct sp_stats_dest *stats)
{
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->state, CONN_MANAGED, __ATOMIC_RELAXED);
	c->connecting = connecting;
	c->reused = reused;
	c->dest = *key;
	c->stats = reused ? stats : stats_writer_dest(key);
	c->in_use_counted = true;
	pthread_mutex_unlock(&c->lock);
	stats_count(c->stats, reused ? SP_CONNS_REUSED : SP_CONNS_OPENED, 1);
	stats_count(c->stats, SP_IN_USE_NOW, 1);
}

/* connect() on a socket already managed: how a non-blocking connect went,
 * as some programs ask instead of SO_ERROR.  Another address is another
 * connection, which sockpool does not follow. */
static int connect_again(int fd, struct conn *c, const struct sockaddr *addr, socklen_t len)
{
	struct conn_ref ref = conn_ref_of_fd(fd);
	struct dest_key key;
	int rc, err;
	bool again;

	if (ref.conn != c)
		return sys.connect(fd, addr, len);
	if (dest_key_from_sockaddr(&key, addr, len) != 0 || !conn_ref_lock(ref))
		goto elsewhere;
	if (memcmp(&key, &c->dest, sizeof(key)) != 0) {	/* keys are zero-filled */
		pthread_mutex_unlock(&c->lock);
		goto elsewhere;
	}
	rc = sys.connect(fd, addr, len);
	err = errno;
	again = rc != 0 && retry_connect_failed_late(err) && retry_pending_connect(&context, fd, c, err);
	pthread_mutex_unlock(&c->lock);
	if (again)
		return 0;	/* connected, as the first connect() after completion says */
	errno = err;
	return rc;
elsewhere:
	conn_note_broken(ref);
	return sys.connect(fd, addr, len);
}

int engine_fd_high_water(void)
{
	return __atomic_load_n(&fd_high_water, __ATOMIC_RELAXED);
}

int engine_socket_error(int fd, void *val, socklen_t *len)
{
	struct conn_ref ref = conn_ref_of_fd(fd);
	int saved_errno = errno;
	int rc = sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, val, len);
	int err = 0;
	bool again;

	if (rc != 0 || ref.conn == NULL || *len != sizeof(err) || engine_in_vfork_child())
		return rc;
	memcpy(&err, val, sizeof(err));
	if (!retry_connect_failed_late(err) || !conn_ref_lock(ref))
		return rc;
	again = retry_pending_connect(&context, fd, ref.conn, err);
	pthread_mutex_unlock(&ref.conn->lock);
	if (again) {
		err = 0;	/* connected on the new socket */
		memcpy(val, &err, sizeof(err));
	}
	errno = saved_errno;
	return rc;
}

/* c's connect(fd) was answered by a pooled socket, idle as the pool gave
 * it: c is MANAGED from now on.  What connect() returns. */
static int connected_reused(struct conn *c, int fd, const struct dest_key *key,
			    const struct pool_socket *idle, bool nonblock, int saved_errno)
{
	become_managed(c, key, true, false, idle->stats);
	stats_observe(c->stats, SP_HIST_IDLE_AGE, (engine_now_ms() - idle->idle_since_ms) * 1000u);
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char text[DEST_KEY_TEXT_MAX];

		dest_key_format(key, text, sizeof(text));
		log_debug("fd %d: reusing an idle connection to %s", fd, text);
	}
	/* A non-blocking connect never completes at once on Linux TCP; keep
	 * to what the program is ready for.  The socket is already writable
	 * with SO_ERROR 0, as after a real completion. */
	if (nonblock) {
		errno = EINPROGRESS;
		return -1;
	}
	errno = saved_errno;
	return 0;
}

/* connect(fd, key) on a speculative socket (key NULL: a destination not
 * pooled): whether the pooled socket under fd serves it; if not, fd holds
 * a fresh socket of the program's from now on (speculate.h). */
static bool connect_speculative(struct conn *c, int fd, const struct dest_key *key)
{
	bool served = false;

	pthread_mutex_lock(&c->lock);
	if (c->state == CONN_SPECULATIVE) {
		if (key != NULL && !c->broken)
			served = speculate_connect(&context, c, fd, key);
		else
			speculate_settle(&context, c, fd, true);
	}
	pthread_mutex_unlock(&c->lock);
	return served;
}

int engine_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct conn *c = fdtab_get(fd);
	struct dest_key key;
	int rc, status_flags, saved_errno = errno;
	struct pool_socket idle;
	uint64_t started_us;
	bool eligible;

	if (engine_in_vfork_child())
		return sys.connect(fd, addr, len);
	if (c != NULL && c->state == CONN_MANAGED)
		return connect_again(fd, c, addr, len);
	if (c == NULL)
		return sys.connect(fd, addr, len);
	eligible = dest_key_from_sockaddr(&key, addr, len) == 0 && config_dest_allowed(&cfg, &key);
	if (eligible)
		speculate_note_connect(&key);
	if (__atomic_load_n(&c->state, __ATOMIC_RELAXED) == CONN_SPECULATIVE &&
	    connect_speculative(c, fd, eligible ? &key : NULL)) {
		stats_open_once();
		return connected_reused(c, fd, &key, &c->spec, conn_fd_nonblocking(c, fd) > 0,
					saved_errno);
	}
	if (c->state != CONN_CANDIDATE)
		return sys.connect(fd, addr, len);
	/* Shared (a dup, a child's copy): the other fd would keep the socket
	 * the program made while this one got another; it connects as is. */
	if (!eligible || c->broken || c->shared) {
		/* The statistics are made here too: a program that is never
		 * pooled because of an option should see that counted. */
		if (c->broken && c->refused_option.set && key.family != 0 &&
		    config_dest_allowed(&cfg, &key)) {
			stats_open_once();
			option_report_refused(&c->refused_option, fd, &key, stats_writer_dest(&key));
		}
		forget_fd(fd);
		errno = saved_errno;
		return sys.connect(fd, addr, len);
	}
	stats_open_once();
	/* No idle socket here for key: the shared pool may have one. */
	if ((pool_take(&key, &idle, c->nonblock == 0) >= 0 ||
	     broker_client_take(&key, &idle) >= 0) &&
	    (status_flags = adopt_idle_socket(c, fd, &key, &idle)) >= 0)
		return connected_reused(c, fd, &key, &idle, (status_flags & O_NONBLOCK) != 0,
					saved_errno);
	started_us = clock_monotonic_us();
	rc = sys.connect(fd, addr, len);
	if (rc == 0 || errno == EINPROGRESS) {
		saved_errno = errno;
		become_managed(c, &key, false, rc != 0, NULL);
		if (rc == 0) {
			stats_observe(c->stats, SP_HIST_CONNECT_TIME,
				      clock_monotonic_us() - started_us);
			pool_note_answered(&pool, &key, c->stats);
		}
		errno = saved_errno;
		return rc;
	}
	/* Blocking connects are tried again on new sockets (a failed one is
	 * in no state to connect again).  A non-blocking connect that fails
	 * at once (no route, no port) gets its error at once, as it would
	 * have; one that fails later is retried where the program learns of
	 * it (retry.h). */
	saved_errno = errno;
	if (retry_connect_worth_retrying(&context, &key, saved_errno) && conn_fd_nonblocking(c, fd) == 0) {
		pthread_mutex_lock(&c->lock);
		rc = retry_connect(&context, fd, c, &key, saved_errno);
		saved_errno = errno;
		pthread_mutex_unlock(&c->lock);
		if (rc == 0) {
			become_managed(c, &key, false, false, NULL);
			stats_observe(c->stats, SP_HIST_CONNECT_TIME,
				      clock_monotonic_us() - started_us);
			errno = saved_errno;
			return 0;
		}
	}
	forget_fd(fd);
	errno = saved_errno;
	return -1;
}

/* Takes c's lock for close().  A close() from a signal handler may have
 * interrupted this very thread while it held the lock (inside a data
 * hook); waiting would deadlock.  So only a bounded number of tries: a
 * lock held that long is treated as held across the handler. */
static bool lock_for_close(struct conn *c)
{
	for (int i = 0; i < 1000; i++) {
		if (pthread_mutex_trylock(&c->lock) == 0)
			return true;
		sched_yield();
	}
	return false;
}

int engine_close(int fd)
{
	struct conn *c;
	int saved_errno = errno;

	/* Plain load first: closing files and pipes costs no atomic swap.  A
	 * vfork child's close is of its own copy: the parent's fd lives on. */
	if (fdtab_get(fd) == NULL || engine_in_vfork_child() || (c = fdtab_take(fd)) == NULL) {
		fdtab_private_touched(fd);
		return sys.close(fd);
	}
	if (!lock_for_close(c)) {
		/* Not pooled; the conn is left to whoever holds it (a small
		 * leak in a rare case, instead of a deadlock), but not its
		 * shadow, which would hold the connection open. */
		int shadow = __atomic_exchange_n(&c->shadow, -1, __ATOMIC_ACQ_REL);

		if (shadow >= 0)
			sys.close(shadow);
		log_debug("fd %d: closed while its state was busy: not pooled", fd);
		errno = saved_errno;
		return sys.close(fd);
	}
	if (c->state == CONN_SPECULATIVE)
		speculate_abandon(&context, c);	/* never connected: back it goes */
	park_at_close(&context, c, fd);
	conn_drop_shadow(c);	/* not parked: the socket closes with fd */
	pthread_mutex_unlock(&c->lock);
	conn_release(c);
	errno = saved_errno;
	return sys.close(fd);
}

/* ---- fork ---- */

void engine_before_fork(void)
{
	if (!engine_active())
		return;
	/* Before the pool's lock: settling takes conn locks, then it. */
	engine_settle_all(true);
	pthread_mutex_lock(&pool.lock);
}

void engine_after_fork_parent(void)
{
	int high = __atomic_load_n(&fd_high_water, __ATOMIC_RELAXED);

	if (!engine_active())
		return;
	pthread_mutex_unlock(&pool.lock);
	/* One made by another thread since engine_before_fork: the child
	 * holds a copy of the pooled socket under it. */
	engine_settle_all(false);
	__atomic_store_n(&forked_children, true, __ATOMIC_RELAXED);
	/* The child holds copies of every open connection. */
	for (int fd = 0; fd <= high; fd++)
		conn_note_shared(conn_ref_of_fd(fd));
}

void engine_after_fork_child(void)
{
	int high = __atomic_load_n(&fd_high_water, __ATOMIC_RELAXED);

	if (!engine_active())
		return;
	vfork_gate_note_own_pid();
	/* Single-threaded now, but locks that other parent threads held stay
	 * held in this copy: every lock is made anew before anything runs.
	 * The parent's statistics segment is not ours to write. */
	/* First let go of the parent's segment, so that emptying the pool
	 * below does not count in the parent's figures. */
	stats_writer_forget();
	pool_reset_after_fork(&pool);
	reaper_after_fork_child();
	broker_client_after_fork_child();
	conn_reset_after_fork();
	for (int fd = 0; fd <= high; fd++) {
		struct conn *c = fdtab_get(fd);

		if (c != NULL)
			conn_adopt_after_fork(c);
	}
	/* The same race, seen from the child: its own socket, not the pool's. */
	engine_settle_all(false);
	/* The child makes its own segment when it first manages a
	 * connection of its own. */
	pthread_mutex_init(&stats_open_lock, NULL);
	stats_tried = false;
	forked_children = false;
}
