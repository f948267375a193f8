/*
 * deepbind.h: what dlopen() does with RTLD_DEEPBIND under sockpool.
 *
 * A library loaded with RTLD_DEEPBIND looks up symbols in itself and its
 * own dependencies before the program's global scope, so its socket,
 * connect, send and recv bind straight to libc, past the preloaded hooks.
 * Debian's PHP loads every extension that way: php-curl was never pooled.
 * With SOCKPOOL_DROP_DEEPBIND (the default) the flag is dropped and the
 * library binds like any other; with it off, the flag is kept and sockpool
 * says once, at info level, that such a library bypasses it.
 */
#ifndef SOCKPOOL_CORE_DEEPBIND_H
#define SOCKPOOL_CORE_DEEPBIND_H

/* The mode to pass on for the program's dlopen(file, mode), mode having
 * RTLD_DEEPBIND.  The flag stays until the engine is active (a bad
 * configuration, SOCKPOOL_DISABLE, or a call before our constructor
 * leaves the program alone).  Keeps errno. */
int deepbind_dlopen_mode(const char *file, int mode);

#endif
