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

#include <stdbool.h>
#include <stddef.h>

struct conn;

extern struct conn **fdtab_slots;
extern size_t fdtab_size;

/* Beside each fd, whether it is one of sockpool's private fds (a pooled
 * socket or a shadow) that the program has not touched since: then it
 * still holds its socket, and the fstat that would prove it is saved.
 * The kernel never hands such a number to the program, and glibc closes
 * only numbers the program owns; only the program's own close() and
 * dup2()/dup3() onto the number (whose hooks call fdtab_private_touched)
 * can change what it holds.  close_range over it makes the pool forget
 * it altogether. */
enum { FDTAB_PRIVATE_NONE, FDTAB_PRIVATE_TRUSTED, FDTAB_PRIVATE_TOUCHED };
extern unsigned char *fdtab_private;

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

/* fd was just made as a private fd of sockpool's. */
static inline void fdtab_private_mark(int fd)
{
	if ((size_t)fd < __atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE))
		__atomic_store_n(&fdtab_private[fd], FDTAB_PRIVATE_TRUSTED, __ATOMIC_RELEASE);
}

/* The program closed fd or put another file on it (one load when fd is
 * not one of ours: this runs on the pass-through path of close()). */
static inline void fdtab_private_touched(int fd)
{
	if ((size_t)fd < __atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&fdtab_private[fd], __ATOMIC_RELAXED) == FDTAB_PRIVATE_TRUSTED)
		__atomic_store_n(&fdtab_private[fd], FDTAB_PRIVATE_TOUCHED, __ATOMIC_RELEASE);
}

/* Whether private fd still holds what sockpool put there, without asking
 * the kernel (false: ask it). */
static inline bool fdtab_private_trusted(int fd)
{
	return (size_t)fd < __atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&fdtab_private[fd], __ATOMIC_ACQUIRE) == FDTAB_PRIVATE_TRUSTED;
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
