/*
 * shim.h: what the files of src/shim/ share.
 *
 * Each hook is exported with SHIM_EXPORT (everything else in the library
 * is hidden, see exports.map) and is thin: a lookup in the fd table, the
 * real call through `sys`, and at most one engine or conn call.
 */
#ifndef SOCKPOOL_SHIM_H
#define SOCKPOOL_SHIM_H

#include <errno.h>

#include "../core/engine.h"
#include "../core/fdtab.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Replaces the raw system calls in `sys` with libc's (see real.c). */
void real_resolve_all(void);

/* Points *slot at the next definition of name after this library, unless
 * there is none or it is our own (see real.c). */
void real_resolve(void **slot, const char *name);

/* *slot, or, while it is still NULL (a call made before the constructor),
 * the next definition of name, looked up now (NULL if there is none). */
void *real_lazy(void **slot, const char *name);

/* The same for the calls of hooks_newfd.c, hooks_unseen.c and
 * hooks_process.c. */
void newfd_resolve_all(void);
void unseen_resolve_all(void);
void fd_resolve_all(void);
void process_resolve_all(void);

/* vfork.S calls these around the system call (hooks_process.c): the
 * first before it, the second in the parent with the call's result. */
void vfork_gate_enter(void);
int vfork_gate_leave(long result);

/* Before a call on fd that a fresh unconnected socket would answer
 * differently from a pooled one: one load for an fd that is not ours. */
#define SETTLE(fd) do {						\
	if (fdtab_get(fd) != NULL)					\
		engine_settle(fd);					\
} while (0)

/* Makes call, an expression that makes an fd and returns it (or 0) or -1;
 * when it failed for want of descriptors and the pool gave idle sockets
 * back (engine_give_back_idle_fds), makes it once more.  Only a failed
 * call pays anything. */
#define RETRY_IF_OUT_OF_FDS(call) __extension__ ({				\
	__typeof__(call) rc_ = (call);						\
	if (rc_ < 0 && (errno == EMFILE || errno == ENFILE) &&			\
	    engine_give_back_idle_fds())					\
		rc_ = (call);							\
	rc_; })

#endif
