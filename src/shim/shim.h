/*
 * shim.h: what the files of src/shim/ share.
 *
 * Each hook is exported with SHIM_EXPORT (everything else in the library
 * is hidden, see exports.map) and is thin: a lookup in the fd table, the
 * real call through `sys`, and at most one engine or conn call.
 */
#ifndef SOCKPOOL_SHIM_H
#define SOCKPOOL_SHIM_H

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Replaces the raw system calls in `sys` with libc's (see real.c). */
void real_resolve_all(void);

/* Points *slot at the next definition of name after this library, unless
 * there is none or it is our own (see real.c). */
void real_resolve(void **slot, const char *name);

/* The same for the calls of hooks_newfd.c and hooks_unseen.c. */
void newfd_resolve_all(void);
void unseen_resolve_all(void);

#endif
