/*
 * fdtab.h: what the shim knows about each file descriptor, indexed by fd.
 *
 * The table is an array of pointers, one per possible fd, reserved once at
 * start-up (untouched pages cost no memory).  A NULL slot means "not ours":
 * the hook passes the call straight through.  That check is the whole
 * pass-through path, so fdtab_get() is one bounds test and one load: no
 * lock, no allocation, async-signal-safe.  Before the table exists (hooks
 * called before our constructor) every fd reads as NULL.
 */
#ifndef SOCKPOOL_CORE_FDTAB_H
#define SOCKPOOL_CORE_FDTAB_H

#include <stddef.h>

struct conn;

extern struct conn **fdtab_slots;
extern size_t fdtab_size;

/* Reserves room for fds below max_fds.  0 or -1. */
int fdtab_init(size_t max_fds);

static inline struct conn *fdtab_get(int fd)
{
	if ((size_t)fd >= __atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE))
		return NULL;
	return __atomic_load_n(&fdtab_slots[fd], __ATOMIC_ACQUIRE);
}

/* Publishes c for fd; false when fd is beyond the table. */
static inline int fdtab_set(int fd, struct conn *c)
{
	if ((size_t)fd >= fdtab_size)
		return 0;
	__atomic_store_n(&fdtab_slots[fd], c, __ATOMIC_RELEASE);
	return 1;
}

/* Empties the slot and returns what it held, so that exactly one caller
 * gets to dispose of it. */
static inline struct conn *fdtab_take(int fd)
{
	if ((size_t)fd >= __atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE))
		return NULL;
	return __atomic_exchange_n(&fdtab_slots[fd], NULL, __ATOMIC_ACQ_REL);
}

#endif
