/*
 * test_pool.c: the idle connection cache (src/core/pool.h), with real
 * sockets and a clock the test moves by hand.
 *
 * An idle socket is one end of an AF_UNIX socketpair; the test keeps the
 * other end (the "server") so that it can close it or write stray bytes,
 * which is what the pool's liveness check must notice.  Whether the pool
 * closed a socket is judged by the descriptor itself: fcntl(F_GETFD) fails
 * with EBADF.  Each check-in advances the clock by 1 ms so that "oldest"
 * is never a tie.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sys_libc.h"
#include "../../src/core/pool.h"

#define TTL 10000		/* ms an idle socket stays valid, unless a test says */
#define MAX_PEERS 256

static uint64_t fake_now;
static struct pool pool;
static int peers[MAX_PEERS];	/* server ends, closed at teardown */
static int npeers;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void start_pool(unsigned max_idle_per_dest, unsigned max_idle)
{
	fake_now = 1000;
	npeers = 0;
	pool_init(&pool, max_idle_per_dest, max_idle, fake_clock);
}

static int setup_default_pool(void **state)
{
	(void)state;
	start_pool(8, 64);
	return 0;
}

static int teardown_pool(void **state)
{
	(void)state;
	pool_clear(&pool);
	while (npeers > 0)
		close(peers[--npeers]);
	return 0;
}

/* A connected socket for the pool; its peer end is kept in peers[]. *peer
 * (if not NULL) gets the peer end too. */
/* Where checkouts put what was given at checkin. */
static struct pool_socket out;

static int new_socket(int *peer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_true(npeers < MAX_PEERS);
	peers[npeers++] = sv[1];
	if (peer != NULL)
		*peer = sv[1];
	return sv[0];
}

static struct dest_key v4_key(uint16_t port)
{
	struct dest_key key = { .family = AF_INET, .port = port };

	memcpy(key.addr, "\x7f\x00\x00\x01", 4);
	return key;
}

static struct dest_key v6_key(uint16_t port)
{
	struct dest_key key = { .family = AF_INET6, .port = port };

	key.addr[15] = 1;
	return key;
}

/* Checks fd in one millisecond after the previous one, valid for ttl ms. */
static void checkin(const struct dest_key *key, int fd, uint64_t ttl)
{
	fake_now++;
	assert_int_equal(pool_checkin(&pool, key, (struct pool_socket){ .fd = fd }, fake_now + ttl, 0), 0);
}

static void assert_fd_open(int fd)
{
	assert_int_not_equal(fcntl(fd, F_GETFD), -1);
}

static void assert_fd_closed(int fd)
{
	errno = 0;
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

static void assert_checkout(const struct dest_key *key, int expected_fd)
{
	int fd = pool_checkout(&pool, key, &out);

	assert_int_equal(fd, expected_fd);
	if (fd >= 0)
		close(fd);	/* now the caller's, as the engine would */
}

static void test_checked_in_socket_is_checked_out_and_still_works(void **state)
{
	struct dest_key key = v4_key(80);
	int peer, fd = new_socket(&peer);
	char byte = 0;

	(void)state;
	checkin(&key, fd, TTL);
	assert_int_equal(pool_idle_count(&pool, &key), 1);
	assert_int_equal(pool_checkout(&pool, &key, &out), fd);
	assert_int_equal(pool_idle_count(&pool, &key), 0);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(read(peer, &byte, 1), 1);
	assert_int_equal(byte, 'x');
	close(fd);
	assert_int_equal(pool_checkout(&pool, &key, &out), -1);
}

static void test_checkout_gives_most_recently_used_first(void **state)
{
	struct dest_key key = v4_key(80);
	int a = new_socket(NULL), b = new_socket(NULL), c = new_socket(NULL);

	(void)state;
	checkin(&key, a, TTL);
	checkin(&key, b, TTL);
	checkin(&key, c, TTL);
	assert_checkout(&key, c);
	assert_checkout(&key, b);
	assert_checkout(&key, a);
	assert_checkout(&key, -1);
}

/* A socket taken out and not used (socket() guessed wrong, speculate.h)
 * goes back in its place by age, with its expiry; an expired one is
 * closed instead. */
static void test_put_back_keeps_age_order_and_expiry(void **state)
{
	struct dest_key key = v4_key(80);
	int a = new_socket(NULL), b = new_socket(NULL), c = new_socket(NULL);
	struct pool_socket taken_b, taken_a;

	(void)state;
	checkin(&key, a, TTL);
	checkin(&key, b, 100);
	assert_int_equal(pool_checkout(&pool, &key, &taken_b), b);
	assert_int_equal(pool_checkout(&pool, &key, &taken_a), a);
	assert_int_equal(taken_b.expires_ms, fake_now + 100);
	checkin(&key, c, TTL);			/* the newest now */
	pool_put_back(&pool, &key, taken_a);	/* older than c: before it */
	assert_int_equal(pool_idle_count(&pool, &key), 2);
	assert_checkout(&key, c);
	assert_checkout(&key, a);
	fake_now += 100;			/* b has expired meanwhile */
	pool_put_back(&pool, &key, taken_b);
	assert_int_equal(pool_idle_count(&pool, &key), 0);
	assert_fd_closed(b);
}

static void test_per_destination_limit_evicts_that_destinations_oldest(void **state)
{
	struct dest_key key = v4_key(80), other = v4_key(81);
	int old_other, a, b, c;

	teardown_pool(state);
	start_pool(2, 64);
	old_other = new_socket(NULL), a = new_socket(NULL), b = new_socket(NULL);
	c = new_socket(NULL);
	checkin(&other, old_other, TTL);	/* globally oldest, but not key's */
	checkin(&key, a, TTL);
	checkin(&key, b, TTL);
	checkin(&key, c, TTL);
	assert_fd_closed(a);
	assert_fd_open(old_other);
	assert_int_equal(pool_idle_count(&pool, &key), 2);
	assert_checkout(&key, c);
	assert_checkout(&key, b);
	assert_checkout(&key, -1);
}

static void test_global_limit_evicts_the_globally_oldest(void **state)
{
	struct dest_key k1 = v4_key(1), k2 = v4_key(2), k3 = v4_key(3);
	int a, b, c, d;

	teardown_pool(state);
	start_pool(4, 3);
	a = new_socket(NULL), b = new_socket(NULL), c = new_socket(NULL), d = new_socket(NULL);
	checkin(&k2, a, TTL);	/* oldest of all */
	checkin(&k1, b, TTL);
	checkin(&k2, c, TTL);
	checkin(&k3, d, TTL);	/* over max_idle 3: a goes */
	assert_fd_closed(a);
	assert_int_equal(pool_idle_count(&pool, &k1), 1);
	assert_int_equal(pool_idle_count(&pool, &k2), 1);
	assert_int_equal(pool_idle_count(&pool, &k3), 1);
	assert_int_equal(pool.total_idle, 3);
	assert_checkout(&k2, c);
	assert_checkout(&k1, b);
	assert_checkout(&k3, d);
}

static void test_expired_socket_is_closed_at_checkout(void **state)
{
	struct dest_key key = v4_key(80);
	int a = new_socket(NULL), b = new_socket(NULL);

	(void)state;
	checkin(&key, a, 100);
	checkin(&key, b, 100);
	fake_now += 99;			/* b has 1 ms left, a none */
	assert_checkout(&key, b);
	assert_fd_closed(a);
	assert_checkout(&key, -1);
}

/* Sockets expire at different times (each server announces its own
 * Keep-Alive timeout): a newer socket may expire before an older one. */
static void test_expired_socket_is_never_handed_out_even_if_newest(void **state)
{
	struct dest_key key = v4_key(80);
	int long_lived = new_socket(NULL), short_lived = new_socket(NULL);

	(void)state;
	checkin(&key, long_lived, 5000);
	checkin(&key, short_lived, 500);
	fake_now += 1000;
	assert_checkout(&key, long_lived);
	assert_fd_closed(short_lived);
}

static void test_expired_sockets_are_closed_at_checkin(void **state)
{
	struct dest_key key = v4_key(80);
	int a = new_socket(NULL), b = new_socket(NULL);

	(void)state;
	checkin(&key, a, 100);
	fake_now += 200;
	checkin(&key, b, TTL);
	assert_fd_closed(a);
	assert_int_equal(pool_idle_count(&pool, &key), 1);
}

static void test_checkin_already_expired_is_refused_and_closed(void **state)
{
	struct dest_key key = v4_key(80);
	int fd = new_socket(NULL);

	(void)state;
	assert_int_equal(pool_checkin(&pool, &key, (struct pool_socket){ .fd = fd }, fake_now, 0), -1);
	assert_fd_closed(fd);
	assert_int_equal(pool_idle_count(&pool, &key), 0);
}

/* The server end does something to the newest idle socket; checkout must
 * discard it and hand out the older, live one. */
static void check_dead_newest_is_skipped(void (*spoil)(int peer))
{
	struct dest_key key = v4_key(80);
	int spoiled_peer, live = new_socket(NULL), spoiled = new_socket(&spoiled_peer);

	checkin(&key, live, TTL);
	checkin(&key, spoiled, TTL);
	spoil(spoiled_peer);
	errno = EIO;
	assert_checkout(&key, live);
	assert_int_equal(errno, EIO);
	assert_fd_closed(spoiled);
	assert_int_equal(pool_idle_count(&pool, &key), 0);
}

static void peer_closes(int peer)
{
	shutdown(peer, SHUT_RDWR);	/* EOF; the fd itself is closed at teardown */
}

static void peer_sends_stray_byte(int peer)
{
	assert_int_equal(write(peer, "!", 1), 1);
}

static void test_socket_whose_peer_closed_is_discarded(void **state)
{
	(void)state;
	check_dead_newest_is_skipped(peer_closes);
}

static void test_socket_with_stray_bytes_is_discarded(void **state)
{
	(void)state;
	check_dead_newest_is_skipped(peer_sends_stray_byte);
}

static void test_checkout_of_unknown_destination_fails_keeping_errno(void **state)
{
	struct dest_key key = v4_key(80), unknown = v4_key(8080);

	(void)state;
	checkin(&key, new_socket(NULL), TTL);
	errno = ENOTCONN;
	assert_int_equal(pool_checkout(&pool, &unknown, &out), -1);
	assert_int_equal(errno, ENOTCONN);
	assert_int_equal(pool_idle_count(&pool, &unknown), 0);
}

static void test_destinations_differ_by_port_family_address_and_scope(void **state)
{
	struct dest_key keys[5] = { v4_key(80), v4_key(81), v6_key(80), v4_key(80), v6_key(80) };
	int fds[5];

	(void)state;
	keys[3].addr[3] = 2;		/* 127.0.0.2 */
	keys[4].scope_id = 3;
	for (int i = 0; i < 5; i++) {
		fds[i] = new_socket(NULL);
		checkin(&keys[i], fds[i], TTL);
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(pool_idle_count(&pool, &keys[i]), 1);
		assert_checkout(&keys[i], fds[i]);
	}
}

static void check_zero_limit_refuses(unsigned max_idle_per_dest, unsigned max_idle)
{
	struct dest_key key = v4_key(80);
	int fd;

	start_pool(max_idle_per_dest, max_idle);
	fd = new_socket(NULL);
	assert_int_equal(pool_checkin(&pool, &key, (struct pool_socket){ .fd = fd }, fake_now + TTL, 0), -1);
	assert_fd_closed(fd);
	assert_int_equal(pool_idle_count(&pool, &key), 0);
	assert_int_equal(pool_checkout(&pool, &key, &out), -1);
}

static void test_zero_limits_refuse_and_close(void **state)
{
	teardown_pool(state);
	check_zero_limit_refuses(0, 64);
	teardown_pool(state);
	check_zero_limit_refuses(8, 0);
}

static void test_clear_closes_every_idle_socket_and_pool_stays_usable(void **state)
{
	struct dest_key k1 = v4_key(1), k2 = v6_key(2);
	int a = new_socket(NULL), b = new_socket(NULL), c = new_socket(NULL);

	(void)state;
	checkin(&k1, a, TTL);
	checkin(&k1, b, TTL);
	checkin(&k2, c, TTL);
	pool_clear(&pool);
	assert_fd_closed(a);
	assert_fd_closed(b);
	assert_fd_closed(c);
	assert_int_equal(pool.total_idle, 0);
	assert_int_equal(pool_idle_count(&pool, &k1), 0);
	a = new_socket(NULL);
	checkin(&k1, a, TTL);
	assert_checkout(&k1, a);
}

static void test_reset_after_fork_closes_idle_sockets(void **state)
{
	struct dest_key key = v4_key(80);
	int a = new_socket(NULL);

	(void)state;
	checkin(&key, a, TTL);
	pool_reset_after_fork(&pool);
	assert_fd_closed(a);
	assert_int_equal(pool_idle_count(&pool, &key), 0);
}

/* A program closed the pool's fd behind its back and the number now holds
 * one of its files (dup2 onto it does both at once): the pool must neither
 * hand it out nor close it, at checkout or at clear. */
static void test_fd_reused_behind_pools_back_is_dropped_untouched(void **state)
{
	struct dest_key key = v4_key(80);
	int pipefd[2], fd;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	fd = new_socket(NULL);
	checkin(&key, fd, TTL);
	assert_int_equal(dup2(pipefd[0], fd), fd);
	assert_int_equal(pool_checkout(&pool, &key, &out), -1);
	assert_fd_open(fd);
	close(fd);

	fd = new_socket(NULL);
	checkin(&key, fd, TTL);
	assert_int_equal(dup2(pipefd[0], fd), fd);
	pool_clear(&pool);
	assert_fd_open(fd);
	close(fd);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* The same, when the number now holds another socket of the program's:
 * the inode tells them apart, whatever the file type. */
static void test_fd_reused_by_another_socket_is_dropped_untouched(void **state)
{
	struct dest_key key = v4_key(80);
	int other = new_socket(NULL), fd = new_socket(NULL);

	(void)state;
	checkin(&key, fd, TTL);
	assert_int_equal(dup2(other, fd), fd);
	assert_int_equal(pool_checkout(&pool, &key, &out), -1);
	assert_fd_open(fd);
	close(fd);
}

/* The notes given with each socket come back with that socket. */
static void test_notes_come_back_with_their_socket(void **state)
{
	struct dest_key key = v4_key(80);
	int a = new_socket(NULL), b = new_socket(NULL);

	(void)state;
	assert_int_equal(pool_checkin(&pool, &key, (struct pool_socket){ .fd = a, .notes = 0x80000005u },
				      fake_now + TTL, 0), 0);
	assert_int_equal(pool_checkin(&pool, &key, (struct pool_socket){ .fd = b, .notes = 0x2u },
				      fake_now + TTL, 0), 0);
	assert_int_equal(pool_checkout(&pool, &key, &out), b);
	assert_int_equal(out.notes, 0x2u);
	assert_true(out.inode != 0);	/* found out once, handed back */
	assert_int_equal(pool_checkout(&pool, &key, &out), a);
	assert_int_equal(out.notes, 0x80000005u);
	close(a);
	close(b);
}

/* Many destinations, a wave at a time (to stay under any fd limit): each
 * checkout finds its own socket, and empty destinations beyond the few
 * kept for reuse are freed. */
static void test_many_destinations_each_find_their_own_socket(void **state)
{
	enum { WAVE = 100, WAVES = 10 };
	int live, fds[WAVE];

	teardown_pool(state);
	start_pool(8, 2 * WAVE);
	live = new_socket(NULL);
	for (int w = 0; w < WAVES; w++) {
		for (int i = 0; i < WAVE; i++) {
			struct dest_key key = v4_key((uint16_t)(1 + w * WAVE + i));

			fds[i] = dup(live);
			checkin(&key, fds[i], TTL);
		}
		for (int i = WAVE - 1; i >= 0; i--) {
			struct dest_key key = v4_key((uint16_t)(1 + w * WAVE + i));

			assert_checkout(&key, fds[i]);
			assert_checkout(&key, -1);
		}
		assert_int_equal(pool.total_idle, 0);
		assert_true(pool.ndests <= 64);
	}
	close(live);
}

/* A program that talks to many hosts once each: the global limit empties
 * old destinations by eviction, and those must not pile up in the table
 * (pool.c keeps POOL_KEEP_EMPTY_DESTS = 64 empty ones for reuse). */
static void test_destinations_emptied_by_global_eviction_are_freed(void **state)
{
	enum { MAX_IDLE = 4, HOSTS = 1000, KEPT_EMPTY = 64 };
	int live;

	teardown_pool(state);
	start_pool(8, MAX_IDLE);
	live = new_socket(NULL);
	for (int i = 0; i < HOSTS; i++) {
		struct dest_key key = v4_key((uint16_t)(1 + i));

		checkin(&key, dup(live), TTL);
	}
	assert_int_equal(pool.total_idle, MAX_IDLE);
	assert_true(pool.ndests <= KEPT_EMPTY + MAX_IDLE);
}

/* Expiry holds whatever the program does next: activity for another
 * destination closes what expired anywhere (before, only activity for
 * the same destination did, and a program that moved on kept them). */
static void test_expired_sockets_of_other_destinations_go_at_any_checkin(void **state)
{
	struct dest_key a = v4_key(80), b = v4_key(81);
	int old_a = new_socket(NULL), young_a = new_socket(NULL);

	(void)state;
	checkin(&a, old_a, 100);
	checkin(&a, young_a, TTL);
	fake_now += 200;
	checkin(&b, new_socket(NULL), TTL);
	assert_fd_closed(old_a);
	assert_fd_open(young_a);
	assert_int_equal(pool_idle_count(&pool, &a), 1);
}

static void test_expired_sockets_of_other_destinations_go_at_any_checkout(void **state)
{
	struct dest_key a = v4_key(80), b = v4_key(81);
	int fd = new_socket(NULL);

	(void)state;
	checkin(&a, fd, 100);
	fake_now += 200;
	assert_checkout(&b, -1);
	assert_fd_closed(fd);
	assert_int_equal(pool_idle_count(&pool, &a), 0);
}

/* What the reaper relies on: the pool says when it next has something to
 * close, and pool_close_expired closes it then, not before. */
static void test_next_sweep_time_follows_the_earliest_expiry(void **state)
{
	struct dest_key a = v4_key(80), b = v6_key(80);
	int early = new_socket(NULL), late = new_socket(NULL);
	uint64_t due, late_expiry;

	(void)state;
	assert_true(pool_next_sweep_ms(&pool) == UINT64_MAX);
	checkin(&a, late, 5000);
	late_expiry = fake_now + 5000;
	checkin(&b, early, 1000);
	due = pool_next_sweep_ms(&pool);
	assert_true(due == fake_now + 1000);
	fake_now = due - 1;
	pool_close_expired(&pool);
	assert_fd_open(early);
	fake_now = due;
	pool_close_expired(&pool);
	assert_fd_closed(early);
	assert_fd_open(late);
	assert_true(pool_next_sweep_ms(&pool) == late_expiry);
	fake_now = late_expiry;
	pool_close_expired(&pool);
	assert_fd_closed(late);
	assert_true(pool_next_sweep_ms(&pool) == UINT64_MAX);
}

/* A learned server timeout shortens how long the oldest socket may stay:
 * the pool's next sweep time follows that too. */
static void test_next_sweep_time_follows_a_learned_timeout(void **state)
{
	struct dest_key key = v4_key(80);
	int fd = new_socket(NULL);
	uint64_t parked;

	(void)state;
	checkin(&key, fd, TTL);
	parked = fake_now;
	pool_learn_idle_timeout(&pool, &key, 1000);	/* kept 900 ms at most */
	assert_true(pool_next_sweep_ms(&pool) <= parked + 900);
	fake_now = parked + 900;
	pool_close_expired(&pool);
	assert_fd_closed(fd);
}

/* Sockets expiring one after another do not make every check-in look at
 * every destination: sweeps are at least POOL_SWEEP_GAP_MS (50) apart. */
static void test_sweeps_are_spaced(void **state)
{
	struct dest_key a = v4_key(80), b = v4_key(81), c = v4_key(82);
	int first = new_socket(NULL), second = new_socket(NULL);
	uint64_t swept;

	(void)state;
	checkin(&a, first, 10);
	checkin(&b, second, 20);
	fake_now += 10;
	checkin(&c, new_socket(NULL), TTL);	/* sweeps: first expired */
	swept = fake_now;
	assert_fd_closed(first);
	fake_now += 15;				/* second expired too */
	checkin(&c, new_socket(NULL), TTL);
	assert_fd_open(second);
	assert_true(pool_next_sweep_ms(&pool) == swept + 50);
	assert_checkout(&b, -1);		/* never handed out, though */
	assert_fd_closed(second);
}

/* A destination has answered once a connect to it succeeded, or a socket
 * to it was parked; refusals from any other are not retried (retry.h). */
static void test_destination_answered_after_a_connect_or_a_checkin(void **state)
{
	struct dest_key connected = v4_key(80), parked = v4_key(81), never = v4_key(82);
	int fd = new_socket(NULL);

	(void)state;
	assert_false(pool_dest_answered(&pool, &connected));
	pool_note_answered(&pool, &connected, NULL);
	assert_true(pool_dest_answered(&pool, &connected));
	checkin(&parked, fd, TTL);
	assert_true(pool_dest_answered(&pool, &parked));
	assert_checkout(&parked, fd);
	assert_true(pool_dest_answered(&pool, &parked));	/* empty, remembered */
	pool_note_requests(&pool, &never, 5);
	assert_false(pool_dest_answered(&pool, &never));
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, setup_default_pool, teardown_pool)

int main(void)
{
	const struct CMUnitTest tests[] = {
		POOL_TEST(test_checked_in_socket_is_checked_out_and_still_works),
		POOL_TEST(test_checkout_gives_most_recently_used_first),
		POOL_TEST(test_put_back_keeps_age_order_and_expiry),
		POOL_TEST(test_per_destination_limit_evicts_that_destinations_oldest),
		POOL_TEST(test_global_limit_evicts_the_globally_oldest),
		POOL_TEST(test_expired_socket_is_closed_at_checkout),
		POOL_TEST(test_expired_socket_is_never_handed_out_even_if_newest),
		POOL_TEST(test_expired_sockets_are_closed_at_checkin),
		POOL_TEST(test_checkin_already_expired_is_refused_and_closed),
		POOL_TEST(test_socket_whose_peer_closed_is_discarded),
		POOL_TEST(test_socket_with_stray_bytes_is_discarded),
		POOL_TEST(test_checkout_of_unknown_destination_fails_keeping_errno),
		POOL_TEST(test_destinations_differ_by_port_family_address_and_scope),
		POOL_TEST(test_zero_limits_refuse_and_close),
		POOL_TEST(test_clear_closes_every_idle_socket_and_pool_stays_usable),
		POOL_TEST(test_reset_after_fork_closes_idle_sockets),
		POOL_TEST(test_fd_reused_behind_pools_back_is_dropped_untouched),
		POOL_TEST(test_fd_reused_by_another_socket_is_dropped_untouched),
		POOL_TEST(test_notes_come_back_with_their_socket),
		POOL_TEST(test_many_destinations_each_find_their_own_socket),
		POOL_TEST(test_destinations_emptied_by_global_eviction_are_freed),
		POOL_TEST(test_expired_sockets_of_other_destinations_go_at_any_checkin),
		POOL_TEST(test_expired_sockets_of_other_destinations_go_at_any_checkout),
		POOL_TEST(test_next_sweep_time_follows_the_earliest_expiry),
		POOL_TEST(test_next_sweep_time_follows_a_learned_timeout),
		POOL_TEST(test_sweeps_are_spaced),
		POOL_TEST(test_destination_answered_after_a_connect_or_a_checkin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
