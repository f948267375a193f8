/*
 * fd_budget.h: how many of the program's descriptors the pool may spend,
 * and the lowest number its private fds may take.
 *
 * Pooled sockets are the program's descriptors too: they count against
 * RLIMIT_NOFILE (numbers at or above the soft limit cannot be made).  So
 * the pool keeps at most a quarter of the limit (never more than the
 * configured SOCKPOOL_MAX_IDLE), on the numbers just under it, above where
 * programs' fds and fixed-size arrays live (select's FD_SETSIZE).  The
 * limit is capped at FD_BUDGET_CEILING for this, so that a huge limit does
 * not put private fds where the fd table would grow for them.  Programs
 * change the limit while they run (httperf lowers it to 1024): the engine
 * asks again then (engine_fd_limit_changed).
 */
#ifndef SOCKPOOL_CORE_FD_BUDGET_H
#define SOCKPOOL_CORE_FD_BUDGET_H

#include <sys/resource.h>

#define FD_BUDGET_CEILING 8192

struct fd_budget {
	unsigned max_idle;	/* idle sockets the pool may keep in all */
	int private_floor;	/* lowest fd number for a pooled socket */
};

/* The budget under soft limit soft (RLIM_INFINITY: none) for a pool
 * configured to keep configured_max_idle. */
struct fd_budget fd_budget_for_limit(rlim_t soft, unsigned configured_max_idle);

#endif
