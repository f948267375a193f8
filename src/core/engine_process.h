/*
 * engine_process.h: what engine.c lends engine_process.c (the process
 * around the sockets: fd limits, children) of its own state.  Only those
 * two files include it; the rest of the engine gets an engine_context.
 */
#ifndef SOCKPOOL_CORE_ENGINE_PROCESS_H
#define SOCKPOOL_CORE_ENGINE_PROCESS_H

/* Sizes the private fds to the soft RLIMIT_NOFILE as it is now
 * (fd_budget.h); returns the idle sockets the pool may keep. */
unsigned engine_follow_fd_limit(void);

/* Closes the shadows of every open connection (conn.h), for a program
 * that ran out of descriptors: a park then duplicates its socket anew.
 * How many were closed. */
unsigned engine_drop_shadows(void);

/* The highest fd that ever had a conn. */
int engine_fd_high_water(void);

#endif
