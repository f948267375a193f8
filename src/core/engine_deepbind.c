/*
 * engine_deepbind.c: the RTLD_DEEPBIND decision (engine_dlopen_mode, see
 * engine.h).
 *
 * Why dropping the flag is the default: it exists so that a library
 * prefers its own dependencies' symbols to same-named ones already in the
 * process, which matters when the process is a foreign host (PHP embedded
 * in Apache, with libraries of other versions).  It also makes the library
 * skip every preloaded library: sockpool, but also allocators (the crash
 * of php-src #10670) and sanitizers, which refuse the flag.  PHP itself
 * stopped using it where dlmopen exists (php-src #18612).  Where a clash
 * is real, SOCKPOOL_DROP_DEEPBIND=0 keeps it.
 */
#include "engine.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "log.h"

/* Said once per process each: the lines are for a user wondering why a
 * program is (or is not) pooled, not a list of every plugin loaded. */
static bool said_dropped, said_kept;

static bool first_time(bool *said)
{
	return !__atomic_exchange_n(said, true, __ATOMIC_RELAXED);
}

int engine_dlopen_mode(const char *file, int mode)
{
	int saved_errno = errno;
	const char *name = file != NULL ? file : "the program";

	if (!engine_active())
		return mode;
	if (engine_config()->drop_deepbind) {
		mode &= ~RTLD_DEEPBIND;
		if (first_time(&said_dropped))
			log_info("dlopen(%s): RTLD_DEEPBIND dropped, so that its socket calls reach "
				 "sockpool (SOCKPOOL_DROP_DEEPBIND=0 keeps it; said once)", name);
		else
			log_debug("dlopen(%s): RTLD_DEEPBIND dropped", name);
	} else if (first_time(&said_kept)) {
		log_info("dlopen(%s) with RTLD_DEEPBIND, kept as SOCKPOOL_DROP_DEEPBIND=0 asks: "
			 "its connections bypass sockpool and are not pooled (said once)", name);
	}
	errno = saved_errno;
	return mode;
}
