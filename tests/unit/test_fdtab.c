/*
 * test_fdtab.c: the fd-indexed table of conns (src/core/fdtab.h).
 *
 * The table is process-global, so the first test runs before fdtab_init()
 * (what a hook called before our constructor sees) and the group setup
 * reserves it for the rest.  Entries are only compared as pointers here;
 * the conns themselves never need to exist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>

#include "sys_libc.h"
#include "../../src/core/fdtab.h"

#define TABLE_SIZE 1024

/* Distinct non-NULL pointers standing for conns. */
static char conn_a, conn_b;
#define A ((struct conn *)&conn_a)
#define B ((struct conn *)&conn_b)

static const int out_of_range[] = { -1, -2, INT_MIN, TABLE_SIZE, TABLE_SIZE + 1, INT_MAX };

static void test_before_init_every_fd_reads_empty(void **state)
{
	(void)state;
	assert_int_equal(fdtab_size, 0);	/* this must be the first test */
	assert_null(fdtab_get(0));
	assert_null(fdtab_get(5));
	assert_null(fdtab_get(-1));
	assert_false(fdtab_set(3, A));
	assert_null(fdtab_take(3));
}

static int init_table(void **state)
{
	(void)state;
	return fdtab_init(TABLE_SIZE);
}

static void test_after_init_every_slot_is_empty(void **state)
{
	(void)state;
	assert_int_equal(fdtab_size, TABLE_SIZE);
	for (int fd = 0; fd < TABLE_SIZE; fd++)
		assert_null(fdtab_get(fd));
}

static void test_set_then_get_returns_the_conn_for_that_fd_only(void **state)
{
	(void)state;
	assert_true(fdtab_set(0, A));
	assert_true(fdtab_set(TABLE_SIZE - 1, B));
	assert_ptr_equal(fdtab_get(0), A);
	assert_ptr_equal(fdtab_get(TABLE_SIZE - 1), B);
	assert_null(fdtab_get(1));
	assert_true(fdtab_set(0, B));		/* replaces */
	assert_ptr_equal(fdtab_get(0), B);
	assert_true(fdtab_set(0, NULL));
	assert_true(fdtab_set(TABLE_SIZE - 1, NULL));
	assert_null(fdtab_get(0));
}

static void test_take_returns_the_old_value_exactly_once(void **state)
{
	(void)state;
	assert_true(fdtab_set(7, A));
	assert_ptr_equal(fdtab_take(7), A);
	assert_null(fdtab_get(7));
	assert_null(fdtab_take(7));
	assert_null(fdtab_take(8));		/* never set */
}

static void test_out_of_range_fds_are_never_ours(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++) {
		int fd = out_of_range[i];

		assert_null(fdtab_get(fd));
		assert_false(fdtab_set(fd, A));
		assert_null(fdtab_take(fd));
	}
	for (int fd = 0; fd < TABLE_SIZE; fd++)	/* and nothing leaked in */
		assert_null(fdtab_get(fd));
}

int main(void)
{
	const struct CMUnitTest before[] = {
		cmocka_unit_test(test_before_init_every_fd_reads_empty),
	};
	const struct CMUnitTest after[] = {
		cmocka_unit_test(test_after_init_every_slot_is_empty),
		cmocka_unit_test(test_set_then_get_returns_the_conn_for_that_fd_only),
		cmocka_unit_test(test_take_returns_the_old_value_exactly_once),
		cmocka_unit_test(test_out_of_range_fds_are_never_ours),
	};

	return cmocka_run_group_tests_name("fdtab before init", before, NULL, NULL) |
	       cmocka_run_group_tests_name("fdtab", after, init_table, NULL);
}
