/*
 * test_threads.c: the engine's shared state under concurrent use; built
 * and run under ThreadSanitizer by `make check` (unit-tsan).
 *
 * - Threads checking sockets out of and back into one pool never hold the
 *   same socket at once, and nothing is lost.
 * - Hooks noting I/O through conn_refs while another thread releases and
 *   reuses the conns behind them (close() and socket() racing a read()):
 *   the generation rule of conn.h keeps this free of data races, which is
 *   what ThreadSanitizer checks here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sys_libc.h"
#include "../../src/core/conn.h"
#include "../../src/core/fdtab.h"
#include "../../src/core/pool.h"

#define POOL_SOCKETS 16
#define THREADS 4
#define ROUNDS 5000

static struct pool shared_pool;
static struct dest_key shared_key = { .family = AF_INET, .port = 80 };
static int held[4096];		/* 1 while a thread holds that fd */

static uint64_t far_future_clock(void)
{
	return 1000;
}

static void *checkout_checkin_loop(void *arg)
{
	int *conflicts = arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct pool_socket out;
		int fd = pool_checkout(&shared_pool, &shared_key, &out);

		if (fd < 0)
			continue;
		if (__atomic_exchange_n(&held[fd], 1, __ATOMIC_ACQ_REL) != 0)
			__atomic_fetch_add(conflicts, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&held[fd], 0, __ATOMIC_RELEASE);
		pool_checkin(&shared_pool, &shared_key, (struct pool_socket){ .fd = fd }, UINT64_MAX, 0);
	}
	return NULL;
}

static void checkouts_never_share_a_socket(void **state)
{
	int peers[POOL_SOCKETS], conflicts = 0;
	pthread_t threads[THREADS];

	(void)state;
	pool_init(&shared_pool, POOL_SOCKETS, POOL_SOCKETS, far_future_clock);
	for (int i = 0; i < POOL_SOCKETS; i++) {
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		peers[i] = sv[1];
		assert_int_equal(pool_checkin(&shared_pool, &shared_key, (struct pool_socket){ .fd = sv[0] }, UINT64_MAX, 0), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_create(&threads[i], NULL, checkout_checkin_loop, &conflicts);
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(conflicts, 0);
	assert_int_equal(pool_idle_count(&shared_pool, &shared_key), POOL_SOCKETS);
	pool_clear(&shared_pool);
	for (int i = 0; i < POOL_SOCKETS; i++)
		close(peers[i]);
}

#define TABLE_FD 5

static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static void *note_loop(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		struct conn_ref ref = conn_ref_of_fd(TABLE_FD);

		conn_note_sent(ref, request, (ssize_t)strlen(request));
	}
	return NULL;
}

/* Replaces the conn on TABLE_FD over and over, as close()+socket() do. */
static void *recycle_loop(void *arg)
{
	int *foreign_notes = arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct conn *fresh = conn_acquire();
		struct conn *old;

		/* A CANDIDATE conn ignores notes; one that is MANAGED counts
		 * them.  Publish a CANDIDATE first, then let it be noted. */
		fdtab_set(TABLE_FD, fresh);
		pthread_mutex_lock(&fresh->lock);
		fresh->state = CONN_MANAGED;
		pthread_mutex_unlock(&fresh->lock);
		old = fdtab_take(TABLE_FD);
		pthread_mutex_lock(&old->lock);
		/* Whatever was recorded belongs to this conn's own lifetime:
		 * never more requests than the noting thread could have made. */
		if (old->http.requests_started > ROUNDS)
			(*foreign_notes)++;
		pthread_mutex_unlock(&old->lock);
		conn_release(old);
	}
	return NULL;
}

static void notes_never_reach_a_recycled_conn(void **state)
{
	pthread_t noter, recycler;
	int foreign_notes = 0;

	(void)state;
	assert_int_equal(fdtab_init(64), 0);
	pthread_create(&noter, NULL, note_loop, NULL);
	pthread_create(&recycler, NULL, recycle_loop, &foreign_notes);
	pthread_join(noter, NULL);
	pthread_join(recycler, NULL);
	assert_int_equal(foreign_notes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checkouts_never_share_a_socket),
		cmocka_unit_test(notes_never_reach_a_recycled_conn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
