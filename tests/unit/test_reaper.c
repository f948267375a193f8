/*
 * test_reaper.c: the thread that closes expired idle sockets while the
 * program makes no call (src/core/reaper.h), on the real clock.
 *
 * Whether the reaper closed a socket is judged by the descriptor
 * (fcntl(F_GETFD) fails with EBADF); whether it runs, and with which
 * signals blocked, by the kernel's view of this process's threads
 * (/proc/self/task/TID/comm and status).  Waits are polls bounded at 5 s,
 * to catch a hang, never to time anything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sys_libc.h"
#include "../../src/core/clock.h"
#include "../../src/core/pool.h"
#include "../../src/core/reaper.h"

#define BOUND_MS 5000
#define REAPER_NAME "sockpool-idle"

static struct pool pool;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool fd_closed(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* The SigBlk line of the reaper thread's status ("" when none runs). */
static void reaper_sigblk(char *out, size_t size)
{
	DIR *tasks = opendir("/proc/self/task");
	struct dirent *e;

	out[0] = '\0';
	assert_non_null(tasks);
	while ((e = readdir(tasks)) != NULL) {
		char path[300], line[256];
		FILE *f;
		bool ours = false;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		ours = fgets(line, sizeof(line), f) != NULL &&
		       strncmp(line, REAPER_NAME "\n", sizeof(REAPER_NAME)) == 0;
		fclose(f);
		if (!ours)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "SigBlk:", 7) == 0)
				snprintf(out, size, "%s", line + 7);
		fclose(f);
	}
	closedir(tasks);
}

/* Every signal a program can send or handle, in a SigBlk mask (bit n-1
 * for signal n): all but SIGKILL and SIGSTOP, which cannot be blocked,
 * and libc's own between SIGSYS and SIGRTMIN. */
static bool every_signal_blocked(unsigned long long mask)
{
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || (sig > SIGSYS && sig < SIGRTMIN))
			continue;
		if (!(mask & (1ULL << (sig - 1))))
			return false;
	}
	return true;
}

static bool reaper_running(void)
{
	char sigblk[256];

	reaper_sigblk(sigblk, sizeof(sigblk));
	return sigblk[0] != '\0';
}

/* Whether the reaper comes to run (want) or to end (!want) within the
 * bound: it names itself once it has started. */
static bool reaper_comes_to(bool want)
{
	for (int waited = 0; waited < BOUND_MS; waited += 10) {
		if (reaper_running() == want)
			return true;
		sleep_ms(10);
	}
	return false;
}

/* One idle socket parked for ttl_ms; the peer end goes to *peer. */
static int park_socket(int *peer, uint64_t ttl_ms)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*peer = sv[1];
	assert_int_equal(pool_checkin(&pool, &(struct dest_key){ .family = AF_INET, .port = 80 },
				      (struct pool_socket){ .fd = sv[0] },
				      clock_monotonic_ms() + ttl_ms, 0), 0);
	reaper_note_parked();
	return sv[0];
}

static bool wait_until_closed(int fd)
{
	for (int waited = 0; waited < BOUND_MS; waited += 10) {
		if (fd_closed(fd))
			return true;
		sleep_ms(10);
	}
	return false;
}

/* A socket parked while the program then only sleeps is closed by the
 * reaper once it expires; the reaper blocks every signal, and ends when
 * the pool is empty. */
static void test_expired_socket_closed_while_program_sleeps(void **state)
{
	char sigblk[256];
	int peer, fd;

	(void)state;
	fd = park_socket(&peer, 1000);
	assert_true(reaper_comes_to(true));
	reaper_sigblk(sigblk, sizeof(sigblk));
	assert_true(every_signal_blocked(strtoull(sigblk, NULL, 16)));
	assert_true(wait_until_closed(fd));
	assert_true(reaper_comes_to(false));
	close(peer);
}

/* A socket that expires sooner than what the reaper sleeps for wakes it. */
static void test_sooner_expiry_wakes_the_reaper(void **state)
{
	int late_peer, soon_peer, late, soon;

	(void)state;
	late = park_socket(&late_peer, 60000);
	sleep_ms(50);		/* let it go to sleep for a minute */
	soon = park_socket(&soon_peer, 100);
	assert_true(wait_until_closed(soon));
	assert_false(fd_closed(late));
	pool_clear(&pool);
	close(late_peer);
	close(soon_peer);
}

/* A child after fork() has no reaper of its own until it parks a socket;
 * then it gets one. */
static void test_fork_child_makes_its_own_reaper(void **state)
{
	int peer, status;
	pid_t child;

	(void)state;
	(void)park_socket(&peer, 60000);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd, child_peer;

		pool_reset_after_fork(&pool);
		reaper_after_fork_child();
		fd = park_socket(&child_peer, 1000);
		_exit(reaper_comes_to(true) && wait_until_closed(fd) ? 0 : 1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	pool_clear(&pool);
	close(peer);
}

/* Parks from several threads at once, each socket expiring at once, so
 * that reapers end (the pool empty) while other threads start new ones:
 * every park returns.  (A starter once waited on a flag that another
 * starter had reset, for ever.) */
#define RACE_THREADS 4
#define RACE_PARKS 1000

/* No cmocka assertion here: it cannot fail a test from another thread.
 * A socket the pool refuses (full, or expired already) is closed. */
static void *park_and_expire(void *arg)
{
	(void)arg;
	for (int i = 0; i < RACE_PARKS; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			return (void *)1;
		if (pool_checkin(&pool, &(struct dest_key){ .family = AF_INET, .port = 80 },
				 (struct pool_socket){ .fd = sv[0] }, clock_monotonic_ms() + 1,
				 0) != 0)
			close(sv[0]);
		reaper_note_parked();
		close(sv[1]);
	}
	return NULL;
}

static void test_concurrent_parks_never_wait_for_ever(void **state)
{
	pthread_t threads[RACE_THREADS];
	struct timespec bound;

	(void)state;
	for (int i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, park_and_expire, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &bound);
	bound.tv_sec += BOUND_MS / 1000 * 2;
	for (int i = 0; i < RACE_THREADS; i++) {
		void *failed = NULL;

		assert_int_equal(pthread_timedjoin_np(threads[i], &failed, &bound), 0);
		assert_null(failed);
	}
	assert_true(reaper_comes_to(false));
	pool_clear(&pool);
}

static int setup(void **state)
{
	(void)state;
	pool_init(&pool, 8, 64, clock_monotonic_ms);
	reaper_init(&pool);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expired_socket_closed_while_program_sleeps),
		cmocka_unit_test(test_sooner_expiry_wakes_the_reaper),
		cmocka_unit_test(test_fork_child_makes_its_own_reaper),
		cmocka_unit_test(test_concurrent_parks_never_wait_for_ever),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
