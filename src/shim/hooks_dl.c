/*
 * hooks_dl.c: dlopen(), so that a library loaded with RTLD_DEEPBIND (PHP's
 * extensions) still reaches the hooks (engine_dlopen_mode decides).
 *
 * dlopen() judges by its caller's return address: whose DT_RUNPATH and
 * $ORIGIN a bare name is searched with, and which link-map namespace the
 * library joins.  So the hook must not be the caller it sees: it ends in a
 * tail call (a jump), and dlopen finds the program's return address where
 * it looks.  Nothing may run after that call, and the sanitizers are kept
 * out of this function, since their exit instrumentation would turn the
 * jump into a call.  test_compat_dlopen.sh checks a bare name found
 * through the program's RUNPATH, with and without RTLD_DEEPBIND.
 */
#include <dlfcn.h>
#include <stddef.h>

#include "../core/engine.h"
#include "shim.h"

typedef void *dlopen_fn(const char *file, int mode);

static dlopen_fn *next_dlopen;

/* libc's dlopen, looked up at the first call: a library constructor may
 * call dlopen before ours has run. */
static dlopen_fn *dlopen_next(void)
{
	dlopen_fn *next = __atomic_load_n(&next_dlopen, __ATOMIC_RELAXED);

	if (next == NULL) {
		real_resolve((void **)&next_dlopen, "dlopen");
		next = __atomic_load_n(&next_dlopen, __ATOMIC_RELAXED);
	}
	return next;
}

__attribute__((no_sanitize("address", "thread", "undefined")))
SHIM_EXPORT void *dlopen(const char *file, int mode)
{
	dlopen_fn *next = dlopen_next();

	if (next == NULL)
		return NULL;	/* no libc dlopen after us: cannot happen */
	if (mode & RTLD_DEEPBIND)
		mode = engine_dlopen_mode(file, mode);
	return next(file, mode);	/* a tail call: see above */
}
