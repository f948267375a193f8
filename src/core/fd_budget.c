/*
 * fd_budget.c: the pool's share of the program's fd limit (see the header).
 */
#include "fd_budget.h"

struct fd_budget fd_budget_for_limit(rlim_t soft, unsigned configured_max_idle)
{
	struct fd_budget b = { .max_idle = configured_max_idle };

	if (soft == RLIM_INFINITY || soft > FD_BUDGET_CEILING)
		soft = FD_BUDGET_CEILING;
	if (b.max_idle > soft / 4)
		b.max_idle = (unsigned)(soft / 4);
	b.private_floor = (int)soft - (int)b.max_idle - 1;
	if (b.private_floor < 3)
		b.private_floor = 3;
	return b;
}
