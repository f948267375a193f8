/*
 * init.c: the shim's constructor and destructor.
 *
 * The constructor swaps the raw system calls for libc's (real.c), reads
 * the configuration and starts the engine; until it has, every hook passes
 * through.  Settings come through secure_getenv, so a setuid program reads
 * none of them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "../core/engine.h"
#include "shim.h"

__attribute__((constructor)) static void shim_start(void)
{
	int saved_errno = errno;

	real_resolve_all();
	newfd_resolve_all();
	unseen_resolve_all();
	fd_resolve_all();
	process_resolve_all();
	engine_start(secure_getenv, program_invocation_short_name);
	if (engine_active())
		pthread_atfork(engine_before_fork, engine_after_fork_parent,
			       engine_after_fork_child);
	errno = saved_errno;
}

__attribute__((destructor)) static void shim_stop(void)
{
	engine_stop();
}
