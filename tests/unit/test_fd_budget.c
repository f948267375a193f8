/*
 * test_fd_budget.c: the pool's share of the fd limit (fd_budget.c), and
 * the pool shrinking to a new share or giving every idle socket back
 * (pool_set_max_idle, pool_close_all_idle), on real sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/core/fd_budget.h"
#include "../../src/core/pool.h"
#include "sys_libc.h"

static uint64_t fake_now = 1000;

static uint64_t now_ms(void)
{
	return fake_now;
}

static void test_quarter_of_the_limit_just_under_it(void **state)
{
	struct fd_budget b = fd_budget_for_limit(1024, 256);

	(void)state;
	assert_int_equal(b.max_idle, 256);
	assert_int_equal(b.private_floor, 1024 - 256 - 1);
	b = fd_budget_for_limit(100, 256);
	assert_int_equal(b.max_idle, 25);
	assert_int_equal(b.private_floor, 74);
}

static void test_configured_maximum_wins_when_smaller(void **state)
{
	struct fd_budget b = fd_budget_for_limit(1024, 10);

	(void)state;
	assert_int_equal(b.max_idle, 10);
	assert_int_equal(b.private_floor, 1024 - 10 - 1);
}

static void test_huge_or_no_limit_is_capped(void **state)
{
	struct fd_budget a = fd_budget_for_limit(RLIM_INFINITY, 65536);
	struct fd_budget b = fd_budget_for_limit(1u << 20, 256);

	(void)state;
	assert_int_equal(a.max_idle, FD_BUDGET_CEILING / 4);
	assert_int_equal(a.private_floor, FD_BUDGET_CEILING - FD_BUDGET_CEILING / 4 - 1);
	assert_int_equal(b.private_floor, FD_BUDGET_CEILING - 256 - 1);
}

static void test_tiny_limit_keeps_the_floor_above_stdio(void **state)
{
	struct fd_budget b = fd_budget_for_limit(4, 256);

	(void)state;
	assert_int_equal(b.max_idle, 1);
	assert_int_equal(b.private_floor, 3);
}

/* Parks n connected sockets (one end of a pair each) for key. */
static void park(struct pool *p, const struct dest_key *key, int n, int peers[])
{
	for (int i = 0; i < n; i++) {
		int sp[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
		peers[i] = sp[1];
		fake_now++;
		assert_int_equal(pool_checkin(p, key, (struct pool_socket){ .fd = sp[0] },
					      fake_now + 100000, 0), 0);
	}
}

/* How many of the peers see their other end closed (read returns 0). */
static int peers_closed(int peers[], int n)
{
	int closed = 0;

	for (int i = 0; i < n; i++) {
		char byte;

		fcntl(peers[i], F_SETFL, O_NONBLOCK);
		if (read(peers[i], &byte, 1) == 0)
			closed++;
		close(peers[i]);
	}
	return closed;
}

static void test_lower_maximum_closes_the_oldest(void **state)
{
	struct dest_key key = { .family = 2, .port = 80 };
	struct pool p;
	int peers[6];

	(void)state;
	pool_init(&p, 32, 256, now_ms);
	park(&p, &key, 6, peers);
	pool_set_max_idle(&p, 2);
	assert_int_equal(pool_idle_count(&p, &key), 2);
	/* The four oldest went, the two newest stay. */
	assert_int_equal(peers_closed(peers, 4), 4);
	assert_int_equal(peers_closed(peers + 4, 2), 0);
	pool_clear(&p);
}

static void test_close_all_idle_gives_every_socket_back(void **state)
{
	struct dest_key key = { .family = 2, .port = 80 };
	struct pool p;
	int peers[3];

	(void)state;
	pool_init(&p, 32, 256, now_ms);
	park(&p, &key, 3, peers);
	assert_int_equal(pool_close_all_idle(&p), 3);
	assert_int_equal(pool_idle_count(&p, &key), 0);
	assert_int_equal(peers_closed(peers, 3), 3);
	assert_int_equal(pool_close_all_idle(&p), 0);
	pool_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quarter_of_the_limit_just_under_it),
		cmocka_unit_test(test_configured_maximum_wins_when_smaller),
		cmocka_unit_test(test_huge_or_no_limit_is_capped),
		cmocka_unit_test(test_tiny_limit_keeps_the_floor_above_stdio),
		cmocka_unit_test(test_lower_maximum_closes_the_oldest),
		cmocka_unit_test(test_close_all_idle_gives_every_socket_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
