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

#endif
