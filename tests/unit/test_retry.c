/*
 * test_retry.c: the parts of retrying that are rules, not system calls:
 * the backoff (src/core/backoff.h) with the random value given by the
 * test, the retry budget (budget.h) and the pool's learning of a server's
 * idle timeout (pool.h) on a clock the test moves, and which exchanges
 * may be sent again (conn_exchange_replayable, over the HTTP tracker).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sys_libc.h"
#include "../../src/core/backoff.h"
#include "../../src/core/budget.h"
#include "../../src/core/conn.h"
#include "../../src/core/fdtab.h"
#include "../../src/core/pool.h"
#include "../../src/core/retry.h"

/* ---- backoff ---- */

static void test_backoff_cap_doubles_up_to_the_maximum(void **state)
{
	(void)state;
	assert_int_equal(backoff_cap_ms(10, 250, 0), 10);
	assert_int_equal(backoff_cap_ms(10, 250, 1), 20);
	assert_int_equal(backoff_cap_ms(10, 250, 4), 160);
	assert_int_equal(backoff_cap_ms(10, 250, 5), 250);
	assert_int_equal(backoff_cap_ms(10, 250, 1000), 250);	/* no overflow */
	assert_int_equal(backoff_cap_ms(0, 250, 3), 0);
}

/* Equal jitter: the delay lies in [cap/2, cap] whatever the random value,
 * and both ends are reached. */
static void test_backoff_delay_stays_between_half_and_all_of_the_cap(void **state)
{
	static const uint64_t randoms[] = { 0, 1, 5, 6, 7, 1234567, UINT64_MAX };

	(void)state;
	for (unsigned attempt = 0; attempt < 10; attempt++) {
		uint32_t cap = backoff_cap_ms(10, 250, attempt);

		for (size_t i = 0; i < sizeof(randoms) / sizeof(randoms[0]); i++) {
			uint32_t d = backoff_delay_ms(10, 250, attempt, randoms[i]);

			assert_in_range(d, cap / 2, cap);
		}
		assert_int_equal(backoff_delay_ms(10, 250, attempt, 0), cap / 2);
		assert_int_equal(backoff_delay_ms(10, 250, attempt, cap - cap / 2), cap);
	}
}

/* With the defaults, the retries of one connect wait at least 530 ms in
 * all: longer than a 250 ms restart, shorter than the 2 s deadline. */
static void test_default_retries_outlast_a_quarter_second_refusal(void **state)
{
	uint64_t least = 0, most = 0;

	(void)state;
	for (unsigned attempt = 0; attempt < 8; attempt++) {
		least += backoff_delay_ms(10, 250, attempt, 0);
		most += backoff_cap_ms(10, 250, attempt);
	}
	assert_true(least >= 500);
	assert_true(most <= 2000);
}

/* ---- budget ---- */

static unsigned retries_allowed(struct retry_budget *b, uint64_t now, unsigned percent)
{
	unsigned n = 0;

	while (n < 100000 && budget_take_retry(b, now, percent))
		n++;
	return n;
}

static void test_budget_floor_allows_a_few_retries_with_no_requests(void **state)
{
	struct retry_budget b;

	(void)state;
	budget_init(&b, 0);
	assert_int_equal(retries_allowed(&b, 0, 20), BUDGET_FLOOR);
}

static void test_budget_grows_with_requests(void **state)
{
	struct retry_budget b;

	(void)state;
	budget_init(&b, 0);
	budget_note_requests(&b, 0, 100);
	assert_int_equal(retries_allowed(&b, 0, 20), BUDGET_FLOOR + 20);
	budget_note_requests(&b, 1, 50);
	assert_int_equal(retries_allowed(&b, 1, 20), 10);
	budget_init(&b, 0);
	budget_note_requests(&b, 0, 100);
	assert_int_equal(retries_allowed(&b, 0, 0), BUDGET_FLOOR);
}

/* Requests and retries older than two windows are forgotten; those of the
 * window before still count. */
static void test_budget_window_slides(void **state)
{
	struct retry_budget b;

	(void)state;
	budget_init(&b, 0);
	budget_note_requests(&b, 0, 100);
	assert_int_equal(retries_allowed(&b, 0, 20), BUDGET_FLOOR + 20);
	/* One window on: the spent retries still count against the old
	 * requests. */
	assert_int_equal(retries_allowed(&b, BUDGET_WINDOW_MS, 20), 0);
	/* Two more windows: all forgotten, the floor is back. */
	assert_int_equal(retries_allowed(&b, 3 * BUDGET_WINDOW_MS, 20), BUDGET_FLOOR);
}

/* ---- learning a server's idle timeout ---- */

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static struct dest_key local_key(void)
{
	struct dest_key key = { .family = AF_INET, .port = 8080 };

	memcpy(key.addr, "\x7f\x00\x00\x01", 4);
	return key;
}

/* A socket whose server end is closed after idle_ms: checkout finds it
 * dead, and the pool learns from its idle age. */
static void park_and_find_dead(struct pool *p, uint64_t idle_ms)
{
	struct dest_key key = local_key();
	struct pool_socket out;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pool_checkin(p, &key, (struct pool_socket){ .fd = sv[0] },
				      fake_now + 100000, 0), 0);
	fake_now += idle_ms;
	close(sv[1]);
	assert_int_equal(pool_checkout(p, &key, &out), -1);
}

static void test_pool_learns_the_shortest_idle_age_found_dead(void **state)
{
	struct dest_key key = local_key();
	struct pool p;

	(void)state;
	fake_now = 1000;
	pool_init(&p, 8, 64, fake_clock);
	assert_int_equal(pool_learned_idle_timeout(&p, &key), 0);
	park_and_find_dead(&p, 300);
	assert_int_equal(pool_learned_idle_timeout(&p, &key), 300);
	park_and_find_dead(&p, 500);	/* longer: says nothing new */
	assert_int_equal(pool_learned_idle_timeout(&p, &key), 300);
	pool_learn_idle_timeout(&p, &key, 120);	/* an EOF seen by the engine */
	assert_int_equal(pool_learned_idle_timeout(&p, &key), 120);
	pool_clear(&p);
}

/* Once learned, a socket is kept at most 90 % of it: after 100 ms of a
 * learned 120 ms it is still handed out, after 110 ms it is not. */
static void test_pool_keeps_sockets_under_what_it_learned(void **state)
{
	struct dest_key key = local_key();
	struct pool_socket out;
	struct pool p;
	int sv[2], fd;

	(void)state;
	fake_now = 1000;
	pool_init(&p, 8, 64, fake_clock);
	pool_learn_idle_timeout(&p, &key, 120);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pool_checkin(&p, &key, (struct pool_socket){ .fd = sv[0] },
				      fake_now + 100000, 0), 0);
	fake_now += 100;
	fd = pool_checkout(&p, &key, &out);
	assert_int_equal(fd, sv[0]);
	assert_int_equal(out.idle_since_ms, 1000);
	assert_int_equal(pool_checkin(&p, &key, out, fake_now + 100000, 0), 0);
	fake_now += 110;
	assert_int_equal(pool_checkout(&p, &key, &out), -1);
	close(sv[1]);
	pool_clear(&p);
}

/* A lesson is forgotten after five minutes without a new one: a server
 * restart must not cripple the pool for good. */
static void test_pool_forgets_an_old_lesson(void **state)
{
	struct dest_key key = local_key();
	struct pool p;

	(void)state;
	fake_now = 1000;
	pool_init(&p, 8, 64, fake_clock);
	pool_learn_idle_timeout(&p, &key, 50);
	fake_now += 5 * 60 * 1000 - 1;
	assert_int_equal(pool_learned_idle_timeout(&p, &key), 50);
	fake_now += 1;
	assert_int_equal(pool_learned_idle_timeout(&p, &key), 0);
	pool_clear(&p);
}

static void test_pool_budget_is_per_destination(void **state)
{
	struct dest_key a = local_key(), b = local_key();
	struct pool p;
	unsigned n = 0;

	(void)state;
	b.port = 9090;
	fake_now = 1000;
	pool_init(&p, 8, 64, fake_clock);
	pool_note_requests(&p, &a, 100);
	while (n < 1000 && pool_take_retry(&p, &a, 20))
		n++;
	assert_int_equal(n, BUDGET_FLOOR + 20);
	assert_true(pool_take_retry(&p, &b, 20));	/* b has its own floor */
	pool_clear(&p);
}

/* Requests told with a check-in count toward the budget as those told
 * alone, whether the socket is kept or refused. */
static void test_pool_checkin_counts_requests_for_the_budget(void **state)
{
	struct dest_key a = local_key(), b = local_key();
	struct pool p;
	unsigned n = 0;
	int sv[2];

	(void)state;
	b.port = 9090;
	fake_now = 1000;
	pool_init(&p, 8, 64, fake_clock);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pool_checkin(&p, &a, (struct pool_socket){ .fd = sv[0] },
				      fake_now + 100000, 100), 0);
	close(sv[1]);
	while (n < 1000 && pool_take_retry(&p, &a, 20))
		n++;
	assert_int_equal(n, BUDGET_FLOOR + 20);
	/* Refused (expired already): the requests still count. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pool_checkin(&p, &b, (struct pool_socket){ .fd = sv[0] }, fake_now, 50), -1);
	close(sv[1]);
	n = 0;
	while (n < 1000 && pool_take_retry(&p, &b, 20))
		n++;
	assert_int_equal(n, BUDGET_FLOOR + 10);
	pool_clear(&p);
}

/* ---- which failed sockets were connects ---- */

static int loopback_listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)addr, sizeof(*addr)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)addr, &len), 0);
	return l;
}

/* A refused connect never completed its handshake; a connection that did,
 * and was reset afterwards, did: its ECONNRESET or ETIMEDOUT is not a
 * connect to try again. */
static void test_refused_connect_is_told_from_a_failed_connection(void **state)
{
	struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in addr;
	int l = loopback_listener(&addr), s, a, err;
	socklen_t len = sizeof(err);
	char byte;

	(void)state;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
	a = accept(l, NULL, NULL);
	assert_true(a >= 0);
	assert_int_equal(setsockopt(a, SOL_SOCKET, SO_LINGER, &abort_on_close,
				    sizeof(abort_on_close)), 0);
	close(a);
	assert_int_equal(recv(s, &byte, 1, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_false(retry_handshake_never_completed(s));
	close(s);

	close(l);	/* nothing listens on the port now */
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(s, (struct sockaddr *)&addr, sizeof(addr)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_true(retry_handshake_never_completed(s));
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	close(s);
}

/* ---- which exchanges may be sent again ---- */

static struct conn *conn_sending(const char *bytes)
{
	struct conn *c = conn_acquire();
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->state = CONN_MANAGED;
	assert_true(fdtab_set(sv[0], c));
	if (bytes != NULL)
		conn_note_sent(conn_ref_of_fd(sv[0]), bytes, (ssize_t)strlen(bytes));
	assert_ptr_equal(fdtab_take(sv[0]), c);
	close(sv[0]);
	close(sv[1]);
	return c;
}

static bool replayable_after(const char *bytes)
{
	struct conn *c = conn_sending(bytes);
	bool r = conn_exchange_replayable(c);

	conn_release(c);
	return r;
}

static void test_nothing_sent_is_always_replayable(void **state)
{
	(void)state;
	assert_true(replayable_after(NULL));
}

static void test_idempotent_methods_are_replayable(void **state)
{
	static const char *const requests[] = {
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
		"DELETE /a HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a HT",		/* headers not all sent yet */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (!replayable_after(requests[i]))
			fail_msg("not replayable: %s", requests[i]);
}

static void test_post_and_patch_are_not_replayable_unless_keyed(void **state)
{
	(void)state;
	assert_false(replayable_after("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
	assert_false(replayable_after("PATCH /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
	assert_false(replayable_after("POST /a HTTP/1.1\r\nHost: x\r\n"));
	assert_true(replayable_after("POST /a HTTP/1.1\r\nHost: x\r\nidempotency-KEY: 7\r\n"
				     "Content-Length: 2\r\n\r\nhi"));
}

/* A GET pipelined after a POST makes the whole exchange unsafe. */
static void test_pipelined_exchange_is_replayable_only_if_all_are(void **state)
{
	(void)state;
	assert_true(replayable_after("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
				     "HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_false(replayable_after("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
				      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
}

/* A request larger than the replay buffer cannot be sent again. */
static void test_request_beyond_the_replay_buffer_is_not_replayable(void **state)
{
	char request[256];
	size_t saved = conn_replay_max;

	(void)state;
	snprintf(request, sizeof(request), "PUT /a HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: 100\r\n\r\n%0100d", 0);
	conn_replay_max = strlen(request) - 1;
	assert_false(replayable_after(request));
	conn_replay_max = strlen(request);
	assert_true(replayable_after(request));
	conn_replay_max = saved;
}

static void test_request_looks_idempotent_from_its_first_bytes(void **state)
{
	(void)state;
	assert_true(http1_request_looks_idempotent("GET / HTTP/1.1\r\n", 16));
	assert_true(http1_request_looks_idempotent("DELETE /x", 9));
	assert_false(http1_request_looks_idempotent("POST / HTTP/1.1\r\nHost: x\r\n\r\n", 27));
	assert_true(http1_request_looks_idempotent(
		"POST / HTTP/1.1\r\nIdempotency-Key: 1\r\n\r\n", 39));
	assert_false(http1_request_looks_idempotent("GE", 2));	/* too few to tell */
	assert_false(http1_request_looks_idempotent("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_cap_doubles_up_to_the_maximum),
		cmocka_unit_test(test_backoff_delay_stays_between_half_and_all_of_the_cap),
		cmocka_unit_test(test_default_retries_outlast_a_quarter_second_refusal),
		cmocka_unit_test(test_budget_floor_allows_a_few_retries_with_no_requests),
		cmocka_unit_test(test_budget_grows_with_requests),
		cmocka_unit_test(test_budget_window_slides),
		cmocka_unit_test(test_pool_learns_the_shortest_idle_age_found_dead),
		cmocka_unit_test(test_pool_keeps_sockets_under_what_it_learned),
		cmocka_unit_test(test_pool_forgets_an_old_lesson),
		cmocka_unit_test(test_pool_budget_is_per_destination),
		cmocka_unit_test(test_pool_checkin_counts_requests_for_the_budget),
		cmocka_unit_test(test_refused_connect_is_told_from_a_failed_connection),
		cmocka_unit_test(test_nothing_sent_is_always_replayable),
		cmocka_unit_test(test_idempotent_methods_are_replayable),
		cmocka_unit_test(test_post_and_patch_are_not_replayable_unless_keyed),
		cmocka_unit_test(test_pipelined_exchange_is_replayable_only_if_all_are),
		cmocka_unit_test(test_request_beyond_the_replay_buffer_is_not_replayable),
		cmocka_unit_test(test_request_looks_idempotent_from_its_first_bytes),
	};

	fdtab_init(65536);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
