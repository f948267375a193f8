/*
 * reaper.h: closes idle pooled sockets when they expire, even in a
 * program that has gone quiet and calls nothing sockpool sees.
 *
 * The pool enforces expiry on its own activity (pool.h); a program that
 * makes its requests and then sleeps, waits on a pipe or computes would
 * otherwise hold its idle sockets (in CLOSE_WAIT once the server gives
 * up on them) for as long as it lives.  So one thread, made only once a
 * socket has been parked, sleeps until the pool's next expiry and closes
 * what expired.
 *
 * Why a thread and not a timer signal: a signal would reach programs that
 * block signals, use SIGALRM or setitimer themselves, or interrupt their
 * system calls with EINTR.  The thread is made with every signal blocked
 * (no signal is ever delivered to it), is detached, sleeps on a condition
 * variable, holds the pool's lock only while it closes expired sockets,
 * and ends when the pool is empty: the next park makes a new one.  That
 * last rule also keeps it from holding a process open whose program
 * threads have all ended with pthread_exit (at most until the last idle
 * socket expires).  After fork() the child has no reaper until it parks a
 * socket of its own; a vfork child (the parent's memory, no fork
 * handlers) never makes one.
 */
#ifndef SOCKPOOL_CORE_REAPER_H
#define SOCKPOOL_CORE_REAPER_H

#include <stdbool.h>

#include "pool.h"

/* The process's pool, watched from now on (engine_start). */
void reaper_init(struct pool *p);

/* A socket was just parked in the pool: makes sure a reaper runs and
 * wakes before the pool's next expiry.  Cheap when one already does (two
 * atomic loads); keeps errno. */
void reaper_note_parked(void);

/* Ends the reaper, if one runs, and waits until it has let go of
 * everything: for a call the kernel refuses to a process with more than
 * one thread (unshare or setns of a user namespace).  Whether one ran; the
 * next park makes a new one.  Keeps errno. */
bool reaper_stop(void);

/* In a child after fork(): no reaper runs here. */
void reaper_after_fork_child(void);

#endif
