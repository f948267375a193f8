/*
 * reaper.c: the thread that closes expired idle sockets (see reaper.h).
 *
 * Waking it is cheap for the program: a park compares the pool's next
 * expiry with the time the reaper sleeps until, and takes the reaper's
 * lock only when the reaper must wake sooner, is not running, or is
 * deciding.  That last case is what makes the comparison safe without a
 * lock: the reaper sets sleeping_until to UINT64_MAX before it reads the
 * pool's next expiry, and a park stores the next expiry (pool_checkin)
 * before it reads sleeping_until, all sequentially consistent.  So either
 * the park sees UINT64_MAX and takes the lock (and then wakes or starts
 * the reaper), or the reaper reads the expiry the park stored: a parked
 * socket is never left without a reaper that will wake for it.
 *
 * Lock order: reaper_lock is never held while the pool's lock is taken
 * (the reaper lets go of it to sweep).
 */
#include "reaper.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* The pool's clock is the coarse one, which lags the precise one the
 * wait uses by up to a tick: waiting until this much after the due time
 * means the pool's clock has reached it when the reaper wakes. */
#define REAPER_SLACK_MS 10
/* It only closes sockets and counts: a small stack is plenty. */
#define REAPER_STACK_BYTES (256u * 1024u)

static struct pool *watched;
static pid_t owner_pid;		/* the process that may make a reaper */
static pthread_mutex_t reaper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reaper_wakeup;
static pthread_cond_t reaper_up;	/* a new reaper has started */
static bool running;		/* written under reaper_lock, read atomically */
/* Reapers made and reapers that have started, under reaper_lock: a
 * starter waits for its own, whichever thread made another meanwhile. */
static unsigned long reapers_made, reapers_up;
static bool stop_requested;	/* under reaper_lock: reaper_stop waits */
static uint64_t sleeping_until;	/* the reaper's own wake-up time;
				 * UINT64_MAX while it decides */

static void init_wakeup(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&reaper_wakeup, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&reaper_up, NULL);
}

void reaper_init(struct pool *p)
{
	watched = p;
	owner_pid = getpid();
	init_wakeup();
}

/* Sleeps until the pool's clock reads ms, or until a park wakes it.
 * Caller holds reaper_lock. */
static void wait_until(uint64_t ms)
{
	struct timespec until;

	ms += REAPER_SLACK_MS;
	until.tv_sec = (time_t)(ms / 1000u);
	until.tv_nsec = (long)(ms % 1000u) * 1000000L;
	(void)pthread_cond_timedwait(&reaper_wakeup, &reaper_lock, &until);
}

static void *reaper_main(void *arg)
{
	(void)arg;
	(void)pthread_setname_np(pthread_self(), "sockpool-idle");
	pthread_mutex_lock(&reaper_lock);
	reapers_up++;
	pthread_cond_broadcast(&reaper_up);
	for (;;) {
		uint64_t due;

		__atomic_store_n(&sleeping_until, UINT64_MAX, __ATOMIC_SEQ_CST);
		due = pool_next_sweep_ms(watched);
		if (due == UINT64_MAX || stop_requested)
			break;	/* nothing idle: the next park makes a new reaper */
		if (watched->now_ms() >= due) {
			pthread_mutex_unlock(&reaper_lock);
			pool_close_expired(watched);
			pthread_mutex_lock(&reaper_lock);
			continue;
		}
		__atomic_store_n(&sleeping_until, due, __ATOMIC_SEQ_CST);
		wait_until(due);
	}
	__atomic_store_n(&running, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&reaper_up);	/* for reaper_stop */
	pthread_mutex_unlock(&reaper_lock);
	return NULL;
}

/* Makes the reaper thread, with every signal blocked so that none is
 * ever delivered to it, and waits until it runs: a fork() that the
 * program makes right after this park then never finds the thread half
 * made (a sanitizer runtime, for one, keeps its own lock across thread
 * start-up, and a child forked then inherits it held).  Caller holds
 * reaper_lock. */
static bool start_reaper(void)
{
	pthread_attr_t attr;
	sigset_t all, program_mask;
	pthread_t thread;
	unsigned long mine;
	int rc;

	/* In a vfork child (the parent's memory, no fork handlers run) or
	 * anything else that is not the process we were set up in. */
	if (getpid() != owner_pid)
		return false;
	if (pthread_attr_init(&attr) != 0)
		return false;
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	(void)pthread_attr_setstacksize(&attr, REAPER_STACK_BYTES);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &program_mask);
	mine = ++reapers_made;
	rc = pthread_create(&thread, &attr, reaper_main, NULL);
	pthread_sigmask(SIG_SETMASK, &program_mask, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		reapers_made--;
		return false;
	}
	while (reapers_up < mine)
		pthread_cond_wait(&reaper_up, &reaper_lock);
	return true;
}

void reaper_note_parked(void)
{
	int saved_errno = errno;
	uint64_t due;

	if (watched == NULL)
		return;
	due = pool_next_sweep_ms(watched);
	if (__atomic_load_n(&running, __ATOMIC_ACQUIRE) &&
	    due >= __atomic_load_n(&sleeping_until, __ATOMIC_SEQ_CST))
		return;		/* it wakes in time by itself */
	pthread_mutex_lock(&reaper_lock);
	if (!running) {
		/* Running from now on: another thread that parks while this
		 * one waits for the start must not make a second reaper. */
		__atomic_store_n(&running, true, __ATOMIC_RELEASE);
		if (!start_reaper())
			__atomic_store_n(&running, false, __ATOMIC_RELEASE);
	}
	else if (due < sleeping_until)
		pthread_cond_signal(&reaper_wakeup);
	pthread_mutex_unlock(&reaper_lock);
	errno = saved_errno;
}

bool reaper_stop(void)
{
	int saved_errno = errno;
	bool was_running;

	if (watched == NULL)
		return false;
	pthread_mutex_lock(&reaper_lock);
	was_running = running;
	if (was_running) {
		stop_requested = true;
		pthread_cond_signal(&reaper_wakeup);
		while (running)
			pthread_cond_wait(&reaper_up, &reaper_lock);
		stop_requested = false;
	}
	pthread_mutex_unlock(&reaper_lock);
	errno = saved_errno;
	return was_running;
}

void reaper_after_fork_child(void)
{
	/* The parent's reaper is not here, and may have held the lock. */
	pthread_mutex_init(&reaper_lock, NULL);
	init_wakeup();
	running = false;
	reapers_made = reapers_up = 0;
	sleeping_until = 0;
	owner_pid = getpid();
}
