/*
 * test_stats.c: the statistics segment, written by src/stats/stats_writer.c
 * and read back by src/stats/stats_reader.c, in a fresh mkdtemp directory
 * per test.
 *
 * The writer tests go through the real file: open a segment, claim and
 * count, then read it with the reader.  The reader tests start from such a
 * real segment, copied into memory (valid_image()), damage one thing in it
 * and write it to a file: every damage must end in an error message, never
 * in a crash or a read outside the file, which the sanitizer build checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys_libc.h"
#include "../../src/stats/stats_reader.h"
#include "../../src/stats/stats_writer.h"

#define SEGMENT_SIZE (sizeof(struct sp_stats_header) + \
		      SP_STATS_MAX_DESTS * sizeof(struct sp_stats_dest))

static char dir[64];
static char err[256];
static struct stats_snapshot snap;

/* A path in this test's directory (one static buffer per slot). */
static const char *in_dir(const char *name)
{
	static char paths[2][PATH_MAX];
	static int next;
	char *p = paths[next++ % 2];

	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

static const char *own_segment_path(void)
{
	static char path[PATH_MAX];

	assert_int_equal(stats_segment_path(path, sizeof(path), dir, getuid(), getpid()), 0);
	return path;
}

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sockpool-test-stats.XXXXXX");
	assert_non_null(mkdtemp(dir));
	err[0] = '\0';
	return 0;
}

/* The directory is flat: files, and at most empty directories. */
static int remove_dir(void **state)
{
	struct dirent *de;
	DIR *d;

	(void)state;
	stats_writer_close(false);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		const char *path = in_dir(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlink(path) != 0)
			assert_int_equal(rmdir(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

static struct dest_key v4_key(uint16_t port)
{
	struct dest_key key = { .family = AF_INET, .port = port };

	memcpy(key.addr, "\x7f\x00\x00\x01", 4);
	return key;
}

static struct dest_key v6_key(uint16_t port, uint32_t scope)
{
	struct dest_key key = { .family = AF_INET6, .port = port, .scope_id = scope };

	memcpy(key.addr, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	return key;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void read_file(const char *path, void *data, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* A real segment with one destination, as bytes; the writer is closed
 * again, so the caller may change and store the bytes at will. */
static unsigned char *valid_image(void)
{
	unsigned char *image = malloc(SEGMENT_SIZE);
	struct dest_key key = v4_key(8080);

	assert_non_null(image);
	assert_int_equal(stats_writer_open(dir, "client"), 0);
	stats_count(stats_writer_dest(&key), SP_REQUESTS, 3);
	read_file(own_segment_path(), image, SEGMENT_SIZE);
	stats_writer_close(false);
	return image;
}

#define SET_HEADER(image, field, value) do {				\
	__typeof__(((struct sp_stats_header *)0)->field) v_ = (value);	\
	memcpy((image) + offsetof(struct sp_stats_header, field), &v_, sizeof(v_)); \
} while (0)

/* Stores image as a file and expects the reader to refuse it with a
 * message containing `expected`. */
static void assert_refused(const unsigned char *image, const char *expected)
{
	const char *path = in_dir("seg");

	write_file(path, image, SEGMENT_SIZE);
	err[0] = '\0';
	assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	if (strstr(err, expected) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, expected);
}

/* ---- writer to reader ---- */

static void test_counts_written_are_read_back_with_program_and_pid(void **state)
{
	struct dest_key a = v4_key(8080), b = v6_key(443, 2);
	struct sp_stats_dest *ra, *rb;

	(void)state;
	assert_int_equal(stats_writer_open(dir, "python3"), 0);
	ra = stats_writer_dest(&a);
	rb = stats_writer_dest(&b);
	assert_non_null(ra);
	assert_non_null(rb);
	assert_ptr_not_equal(ra, rb);
	assert_ptr_equal(stats_writer_dest(&a), ra);	/* found, not claimed again */
	stats_count(ra, SP_CONNS_OPENED, 2);
	stats_count(ra, SP_CONNS_REUSED, 5);
	stats_count(rb, SP_REQUESTS, 7);
	stats_count(rb, SP_IDLE_NOW, 1);
	stats_count(rb, SP_IDLE_NOW, 1);
	stats_count(rb, SP_IDLE_NOW, -1);	/* a gauge goes down too */

	assert_int_equal(stats_read_segment(own_segment_path(), &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.pid, getpid());
	assert_true(snap.alive);
	assert_string_equal(snap.program, "python3");
	assert_true(snap.start_time_ns > 0);
	assert_int_equal(snap.max_dests, SP_STATS_MAX_DESTS);
	assert_int_equal(snap.ndests, 2);
	assert_int_equal(snap.dests[0].family, AF_INET);
	assert_int_equal(snap.dests[0].port, 8080);
	assert_memory_equal(snap.dests[0].addr, a.addr, 16);
	assert_int_equal(snap.dests[0].counters.c[SP_CONNS_OPENED], 2);
	assert_int_equal(snap.dests[0].counters.c[SP_CONNS_REUSED], 5);
	assert_int_equal(snap.dests[0].counters.c[SP_REQUESTS], 0);
	assert_int_equal(snap.dests[1].family, AF_INET6);
	assert_int_equal(snap.dests[1].port, 443);
	assert_int_equal(snap.dests[1].scope_id, 2);
	assert_memory_equal(snap.dests[1].addr, b.addr, 16);
	assert_int_equal(snap.dests[1].counters.c[SP_REQUESTS], 7);
	assert_int_equal(snap.dests[1].counters.c[SP_IDLE_NOW], 1);
	assert_int_equal(snap.totals.c[SP_CONNS_OPENED], 2);
	assert_int_equal(snap.totals.c[SP_CONNS_REUSED], 5);
	assert_int_equal(snap.totals.c[SP_REQUESTS], 7);
	assert_int_equal(snap.totals.c[SP_IDLE_NOW], 1);
}

static void test_segment_is_private_to_its_user(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	assert_int_equal(lstat(own_segment_path(), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, getuid());
}

static void test_long_program_name_is_cut_and_terminated(void **state)
{
	char name[200];

	(void)state;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(stats_writer_open(dir, name), 0);
	assert_int_equal(stats_read_segment(own_segment_path(), &snap, err, sizeof(err)), 0);
	assert_int_equal(strlen(snap.program), SP_STATS_PROGRAM_MAX - 1);
}

static void test_full_table_claims_no_more_and_reader_shows_all_claimed(void **state)
{
	struct sp_stats_dest *first;
	struct dest_key key;

	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	for (unsigned i = 0; i < SP_STATS_MAX_DESTS; i++) {
		key = v4_key((uint16_t)(1000 + i));
		assert_non_null(stats_writer_dest(&key));
	}
	key = v4_key(5000);
	assert_null(stats_writer_dest(&key));
	assert_null(stats_writer_dest(&key));
	key = v4_key(1000);
	first = stats_writer_dest(&key);	/* a known one is still found */
	assert_non_null(first);
	stats_count(first, SP_REQUESTS, 1);
	stats_count(NULL, SP_REQUESTS, 1);	/* what a later destination counts */

	assert_int_equal(stats_read_segment(own_segment_path(), &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.ndests, SP_STATS_MAX_DESTS);
	for (unsigned i = 0; i < SP_STATS_MAX_DESTS; i++)
		assert_int_equal(snap.dests[i].port, 1000 + i);
	assert_int_equal(snap.dests[0].counters.c[SP_REQUESTS], 1);
	assert_int_equal(snap.totals.c[SP_REQUESTS], 2);
}

static void test_count_without_record_counts_only_the_total(void **state)
{
	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	stats_count(NULL, SP_CONNS_OPENED, 4);
	assert_int_equal(stats_read_segment(own_segment_path(), &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.ndests, 0);
	assert_int_equal(snap.totals.c[SP_CONNS_OPENED], 4);
}

static void test_writer_calls_after_close_do_nothing(void **state)
{
	struct dest_key key = v4_key(80);
	struct sp_stats_dest *r;

	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	r = stats_writer_dest(&key);
	assert_non_null(r);
	stats_writer_close(false);
	stats_count(r, SP_REQUESTS, 1);		/* a stale record pointer */
	stats_count(NULL, SP_REQUESTS, 1);
	assert_null(stats_writer_dest(&key));
	stats_writer_close(false);			/* twice is harmless */
}

static void test_close_removes_the_segment(void **state)
{
	char path[PATH_MAX];

	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	snprintf(path, sizeof(path), "%s", own_segment_path());
	assert_int_equal(access(path, F_OK), 0);
	stats_writer_close(false);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_forget_leaves_the_segment_and_stops_counting(void **state)
{
	struct dest_key key = v4_key(80);
	struct sp_stats_dest *r;

	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	r = stats_writer_dest(&key);
	stats_count(r, SP_REQUESTS, 1);
	stats_writer_forget();			/* what a forked child does */
	stats_count(r, SP_REQUESTS, 1);
	stats_writer_close(false);			/* nothing left to remove */
	assert_int_equal(stats_read_segment(own_segment_path(), &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.dests[0].counters.c[SP_REQUESTS], 1);
	assert_int_equal(snap.totals.c[SP_REQUESTS], 1);
	assert_int_equal(unlink(own_segment_path()), 0);
}

static void test_leftover_segment_with_our_pid_is_replaced(void **state)
{
	(void)state;
	write_file(own_segment_path(), "junk", 4);
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	assert_int_equal(stats_read_segment(own_segment_path(), &snap, err, sizeof(err)), 0);
}

/* ---- the reader on damaged or hostile files ---- */

static void test_every_truncation_is_refused(void **state)
{
	unsigned char *image = valid_image();
	const char *path = in_dir("seg");
	int fd;

	(void)state;
	write_file(path, image, SEGMENT_SIZE);
	assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), 0);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (size_t len = SEGMENT_SIZE; len-- > 0;) {
		assert_int_equal(ftruncate(fd, (off_t)len), 0);
		err[0] = '\0';
		assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), -1);
		assert_int_equal(errno, EINVAL);
		if (strstr(err, "truncated") == NULL)
			fail_msg("length %zu: \"%s\"", len, err);
	}
	close(fd);
	free(image);
}

static void test_bad_magic_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	SET_HEADER(image, magic, 0x1122334455667788ULL);
	assert_refused(image, "bad magic");
	SET_HEADER(image, magic, 0);		/* a segment still being made */
	assert_refused(image, "no magic");
	free(image);
}

static void test_other_layout_version_is_refused(void **state)
{
	unsigned char *image = valid_image();
	char expected[64];

	(void)state;
	SET_HEADER(image, version, 7);
	snprintf(expected, sizeof(expected), "layout version 7, this reader knows %u",
		 SP_STATS_VERSION);
	assert_refused(image, expected);
	free(image);
}

static void test_wrong_record_or_header_size_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	SET_HEADER(image, dest_record_size, sizeof(struct sp_stats_dest) + 8);
	assert_refused(image, "record size");
	free(image);
	image = valid_image();
	SET_HEADER(image, header_size, 8);
	assert_refused(image, "header size");
	free(image);
}

static void test_absurd_table_size_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	SET_HEADER(image, max_dests, 0xffffffffu);
	assert_refused(image, "more than the");
	free(image);
}

static void test_total_size_that_disagrees_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	SET_HEADER(image, total_size, SEGMENT_SIZE + 4096);
	assert_refused(image, "total size");
	SET_HEADER(image, total_size, 0);
	assert_refused(image, "total size");
	free(image);
}

static void test_more_destinations_than_the_table_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	SET_HEADER(image, ndests, SP_STATS_MAX_DESTS + 1);
	assert_refused(image, "destinations claimed in a table of");
	free(image);
}

static void test_program_name_without_nul_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	memset(image + offsetof(struct sp_stats_header, program), 'A', SP_STATS_PROGRAM_MAX);
	assert_refused(image, "NUL");
	free(image);
}

static void test_pid_that_is_not_a_process_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	SET_HEADER(image, pid, 0);	/* kill(0, 0) would always succeed */
	assert_refused(image, "bad pid");
	SET_HEADER(image, pid, -1);
	assert_refused(image, "bad pid");
	free(image);
}

static void test_record_of_unknown_family_is_refused(void **state)
{
	unsigned char *image = valid_image();
	uint16_t family = AF_UNIX;

	(void)state;
	memcpy(image + sizeof(struct sp_stats_header) + offsetof(struct sp_stats_dest, family),
	       &family, sizeof(family));
	assert_refused(image, "address family");
	free(image);
}

static void test_unpublished_record_is_not_shown(void **state)
{
	unsigned char *image = valid_image();
	const char *path = in_dir("seg");
	uint32_t in_use = 0;

	(void)state;
	memcpy(image + sizeof(struct sp_stats_header) + offsetof(struct sp_stats_dest, in_use),
	       &in_use, sizeof(in_use));
	write_file(path, image, SEGMENT_SIZE);
	assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.ndests, 0);
	assert_int_equal(snap.totals.c[SP_REQUESTS], 3);
	free(image);
}

static void test_symlink_is_not_followed(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	write_file(in_dir("real"), image, SEGMENT_SIZE);
	assert_int_equal(symlink(in_dir("real"), in_dir("link")), 0);
	assert_int_equal(stats_read_segment(in_dir("link"), &snap, err, sizeof(err)), -1);
	assert_int_equal(errno, ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	free(image);
}

/* Anyone can create a file named for us in /dev/shm.  Handing a file to
 * another user takes root; elsewhere the test is skipped. */
static void test_file_of_another_user_is_refused(void **state)
{
	unsigned char *image = valid_image();
	const char *path = in_dir("seg");

	(void)state;
	write_file(path, image, SEGMENT_SIZE);
	free(image);
	if (geteuid() != 0)
		skip();
	assert_int_equal(chown(path, getuid() + 12345, (gid_t)-1), 0);
	assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "not by you"));
}

static void test_fifo_is_refused_without_blocking(void **state)
{
	(void)state;
	assert_int_equal(mkfifo(in_dir("fifo"), 0600), 0);
	assert_int_equal(stats_read_segment(in_dir("fifo"), &snap, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "not a regular file");
}

static void test_directory_and_missing_file_are_refused(void **state)
{
	(void)state;
	assert_int_equal(mkdir(in_dir("d"), 0700), 0);
	assert_int_equal(stats_read_segment(in_dir("d"), &snap, err, sizeof(err)), -1);
	assert_string_equal(err, "not a regular file");
	assert_int_equal(stats_read_segment(in_dir("none"), &snap, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_huge_file_is_refused_unread(void **state)
{
	const char *path = in_dir("huge");
	int fd;

	(void)state;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	/* Sparse: costs no memory or disk, unless the reader reads it. */
	assert_int_equal(ftruncate(fd, (off_t)STATS_SEGMENT_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
}

static void test_segment_of_dead_process_is_read_as_dead(void **state)
{
	unsigned char *image = valid_image();
	const char *path = in_dir("seg");
	pid_t child = fork();

	(void)state;
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);	/* reaped: gone */
	assert_false(stats_pid_alive(child));
	SET_HEADER(image, pid, (int32_t)child);
	write_file(path, image, SEGMENT_SIZE);
	assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.pid, child);
	assert_false(snap.alive);
	assert_int_equal(snap.ndests, 1);
	assert_true(stats_pid_alive(getpid()));
	free(image);
}


/* ---- v3: gauges, histograms, in-memory validation ---- */

static void test_histograms_and_in_use_gauge_are_read_back(void **state)
{
	struct dest_key key = v4_key(8080);
	struct sp_stats_dest *r;

	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	r = stats_writer_dest(&key);
	stats_observe(r, SP_HIST_REQUEST_TIME, 0);	/* bucket 0 */
	stats_observe(r, SP_HIST_REQUEST_TIME, 1);	/* bucket 0 */
	stats_observe(r, SP_HIST_REQUEST_TIME, 1000);	/* 512..1023: bucket 9 */
	stats_observe(r, SP_HIST_CONNECT_TIME, UINT64_MAX);	/* the open last bucket */
	stats_observe(NULL, SP_HIST_IDLE_AGE, 5);	/* the process only */
	stats_count(r, SP_IN_USE_NOW, 1);
	stats_count(r, SP_IN_USE_NOW, -1);
	stats_count(r, SP_IN_USE_NOW, -1);	/* a decrement without its increment */

	assert_int_equal(stats_read_segment(own_segment_path(), &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.dests[0].counters.h[SP_HIST_REQUEST_TIME][0], 2);
	assert_int_equal(snap.dests[0].counters.h[SP_HIST_REQUEST_TIME][9], 1);
	assert_int_equal(snap.dests[0].counters.h[SP_HIST_CONNECT_TIME][SP_HIST_BUCKETS - 1], 1);
	assert_int_equal(snap.dests[0].counters.h[SP_HIST_IDLE_AGE][2], 0);
	assert_int_equal(snap.totals.h[SP_HIST_IDLE_AGE][2], 1);
	assert_int_equal(stats_hist_total(snap.totals.h[SP_HIST_REQUEST_TIME]), 3);
	/* A gauge is read as signed: -1, not 2^64 - 1. */
	assert_true(stats_counter_is_gauge(SP_IN_USE_NOW));
	assert_true(stats_counter_is_gauge(SP_IDLE_NOW));
	assert_false(stats_counter_is_gauge(SP_REQUESTS));
	assert_int_equal((int64_t)snap.dests[0].counters.c[SP_IN_USE_NOW], -1);
}

static void test_parse_of_an_image_equals_read_of_its_file(void **state)
{
	unsigned char *image = valid_image();
	struct stats_snapshot *copy = malloc(sizeof(*copy));

	(void)state;
	assert_non_null(copy);
	assert_int_equal(stats_parse_segment(image, SEGMENT_SIZE, copy, err, sizeof(err)), 0);
	assert_false(copy->alive);	/* no I/O, so no look at the pid */
	write_file(in_dir("seg"), image, SEGMENT_SIZE);
	assert_int_equal(stats_read_segment(in_dir("seg"), &snap, err, sizeof(err)), 0);
	assert_true(snap.alive);
	copy->alive = true;
	assert_memory_equal(copy, &snap, sizeof(snap));
	free(copy);
	free(image);
}

static void test_every_truncation_of_an_image_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	/* In memory, each cut is its own exact-size buffer, so that the
	 * sanitizer build catches a read one byte past it. */
	for (size_t len = 0; len < SEGMENT_SIZE; len++) {
		unsigned char *cut = malloc(len > 0 ? len : 1);

		memcpy(cut, image, len);
		err[0] = '\0';
		assert_int_equal(stats_parse_segment(cut, len, &snap, err, sizeof(err)), -1);
		assert_int_equal(errno, EINVAL);
		if (strstr(err, "truncated") == NULL)
			fail_msg("length %zu: \"%s\"", len, err);
		free(cut);
	}
	free(image);
}

static void test_previous_layout_version_is_refused(void **state)
{
	unsigned char *image = valid_image();

	(void)state;
	SET_HEADER(image, version, SP_STATS_VERSION - 1);
	assert_refused(image, "layout version");
	free(image);
}

/* Counters at their limit are a valid segment: the figures made from
 * them saturate instead of wrapping. */
static void test_counters_at_their_limit_are_read_and_saturate(void **state)
{
	unsigned char *image = valid_image();
	struct sp_stats_counters all_ones;

	(void)state;
	memset(&all_ones, 0xff, sizeof(all_ones));
	memcpy(image + offsetof(struct sp_stats_header, global), &all_ones, sizeof(all_ones));
	assert_int_equal(stats_parse_segment(image, SEGMENT_SIZE, &snap, err, sizeof(err)), 0);
	assert_true(stats_hist_total(snap.totals.h[SP_HIST_REQUEST_TIME]) == UINT64_MAX);
	assert_int_equal(stats_hist_quantile_bucket(snap.totals.h[SP_HIST_REQUEST_TIME], 0.5), 0);
	assert_int_equal(stats_hist_quantile_bucket(snap.totals.h[SP_HIST_REQUEST_TIME], 1.0), 0);
	assert_true(stats_add_saturated(UINT64_MAX - 1, 2) == UINT64_MAX);
	assert_true(stats_add_saturated(2, 3) == 5);
	free(image);
}

static void test_bucket_upper_bounds_double_and_the_last_is_open(void **state)
{
	(void)state;
	assert_true(stats_bucket_upper_us(0) == 2);
	assert_true(stats_bucket_upper_us(1) == 4);
	assert_true(stats_bucket_upper_us(9) == 1024);
	assert_true(stats_bucket_upper_us(SP_HIST_BUCKETS - 2) == (uint64_t)1 << (SP_HIST_BUCKETS - 1));
	assert_true(stats_bucket_upper_us(SP_HIST_BUCKETS - 1) == UINT64_MAX);
	/* The writer's bucket of a value is below that bound, at or above
	 * the one before. */
	for (uint64_t v = 1; v < ((uint64_t)1 << 40); v = v * 3 + 1) {
		unsigned b = stats_bucket_of(v);

		assert_true(v < stats_bucket_upper_us(b));
		if (b > 0)
			assert_true(v >= stats_bucket_upper_us(b - 1));
	}
}

static void test_quantile_is_the_bucket_reaching_its_rank(void **state)
{
	uint64_t h[SP_HIST_BUCKETS] = { 0 };

	(void)state;
	assert_int_equal(stats_hist_quantile_bucket(h, 0.5), -1);	/* empty */
	h[3] = 1;
	assert_int_equal(stats_hist_quantile_bucket(h, 0.5), 3);
	assert_int_equal(stats_hist_quantile_bucket(h, 0.99), 3);
	assert_int_equal(stats_hist_quantile_bucket(h, 0.0), -1);	/* not a quantile */
	/* 100 values: 50 in bucket 2, 49 in bucket 5, 1 in bucket 20.  p50
	 * is the 50th value (bucket 2), p51 the 51st, p99 the 99th, p100 the
	 * largest. */
	memset(h, 0, sizeof(h));
	h[2] = 50;
	h[5] = 49;
	h[20] = 1;
	assert_int_equal(stats_hist_quantile_bucket(h, 0.50), 2);
	assert_int_equal(stats_hist_quantile_bucket(h, 0.51), 5);
	assert_int_equal(stats_hist_quantile_bucket(h, 0.99), 5);
	assert_int_equal(stats_hist_quantile_bucket(h, 0.991), 20);
	assert_int_equal(stats_hist_quantile_bucket(h, 1.0), 20);
	/* Rounding up: 3 values, p50 is the 2nd (ceil(1.5)). */
	memset(h, 0, sizeof(h));
	h[1] = 1;
	h[7] = 2;
	assert_int_equal(stats_hist_quantile_bucket(h, 0.5), 7);
	h[1] = 2;
	h[7] = 1;
	assert_int_equal(stats_hist_quantile_bucket(h, 0.5), 1);
}

/* ---- finding segments ---- */

static void test_segment_names_are_parsed_strictly(void **state)
{
	static const char *const bad[] = {
		"sockpool.", "sockpool.1000", "sockpool.1000.", "sockpool.1000.0",
		"sockpool.1000.012", "sockpool.01000.12", "sockpool.1000.-5",
		"sockpool.-1000.5", "sockpool.+1000.5", "sockpool.1000.+5",
		"sockpool.1000.5x", "sockpool.1000.5.6", "sockpool.1000.2147483648",
		"sockpool.4294967295.5", "sockpool.99999999999999999999.5",
		"sockpool. 1000.5", "Sockpool.1000.5", "xsockpool.1000.5", "",
	};
	uid_t uid;
	pid_t pid;

	(void)state;
	assert_int_equal(stats_parse_segment_name("sockpool.1000.4321", &uid, &pid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(pid, 4321);
	assert_int_equal(stats_parse_segment_name("sockpool.0.2147483647", &uid, &pid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(pid, 2147483647);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (stats_parse_segment_name(bad[i], &uid, &pid) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
}

static void test_listing_finds_only_our_segments_in_pid_order(void **state)
{
	unsigned me = (unsigned)getuid();
	const char *const others[] = { "%s.%u", "%s.%u.", "%s.%u.0", "%s.%u.012",
				       "%s.%u.5x", "x%s.%u.6", "%s.%u.7.tmp" };
	char name[64];
	size_t count;
	pid_t *pids;

	(void)state;
	snprintf(name, sizeof(name), "sockpool.%u.300", me);
	write_file(in_dir(name), "", 0);
	snprintf(name, sizeof(name), "sockpool.%u.20", me);
	write_file(in_dir(name), "", 0);
	snprintf(name, sizeof(name), "sockpool.%u.1000", me);
	write_file(in_dir(name), "", 0);
	snprintf(name, sizeof(name), "sockpool.%u.50", me + 1);	/* someone else's */
	write_file(in_dir(name), "", 0);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(name, sizeof(name), others[i], "sockpool", me);
		write_file(in_dir(name), "", 0);
	}

	assert_int_equal(stats_list_segments(dir, &pids, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 3);
	assert_int_equal(pids[0], 20);
	assert_int_equal(pids[1], 300);
	assert_int_equal(pids[2], 1000);
	free(pids);
}

static void test_listing_empty_or_missing_directory(void **state)
{
	pid_t sentinel, *pids = &sentinel;
	size_t count = 99;

	(void)state;
	assert_int_equal(stats_list_segments(dir, &pids, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 0);
	assert_null(pids);
	assert_int_equal(stats_list_segments(in_dir("none"), &pids, &count, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(err[0] != '\0');
}

static void test_listed_path_is_where_the_writer_writes(void **state)
{
	char path[PATH_MAX];
	size_t count;
	pid_t *pids;

	(void)state;
	assert_int_equal(stats_writer_open(dir, "p"), 0);
	assert_int_equal(stats_list_segments(dir, &pids, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 1);
	assert_int_equal(pids[0], getpid());
	assert_int_equal(stats_segment_path(path, sizeof(path), dir, getuid(), pids[0]), 0);
	assert_int_equal(stats_read_segment(path, &snap, err, sizeof(err)), 0);
	free(pids);
	assert_int_equal(stats_segment_path(path, 8, dir, getuid(), 1), -1);
}

#define STATS_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		STATS_TEST(test_counts_written_are_read_back_with_program_and_pid),
		STATS_TEST(test_segment_is_private_to_its_user),
		STATS_TEST(test_long_program_name_is_cut_and_terminated),
		STATS_TEST(test_full_table_claims_no_more_and_reader_shows_all_claimed),
		STATS_TEST(test_count_without_record_counts_only_the_total),
		STATS_TEST(test_writer_calls_after_close_do_nothing),
		STATS_TEST(test_close_removes_the_segment),
		STATS_TEST(test_forget_leaves_the_segment_and_stops_counting),
		STATS_TEST(test_leftover_segment_with_our_pid_is_replaced),
		STATS_TEST(test_every_truncation_is_refused),
		STATS_TEST(test_bad_magic_is_refused),
		STATS_TEST(test_other_layout_version_is_refused),
		STATS_TEST(test_wrong_record_or_header_size_is_refused),
		STATS_TEST(test_absurd_table_size_is_refused),
		STATS_TEST(test_total_size_that_disagrees_is_refused),
		STATS_TEST(test_more_destinations_than_the_table_is_refused),
		STATS_TEST(test_program_name_without_nul_is_refused),
		STATS_TEST(test_pid_that_is_not_a_process_is_refused),
		STATS_TEST(test_record_of_unknown_family_is_refused),
		STATS_TEST(test_unpublished_record_is_not_shown),
		STATS_TEST(test_symlink_is_not_followed),
		STATS_TEST(test_file_of_another_user_is_refused),
		STATS_TEST(test_fifo_is_refused_without_blocking),
		STATS_TEST(test_directory_and_missing_file_are_refused),
		STATS_TEST(test_huge_file_is_refused_unread),
		STATS_TEST(test_segment_of_dead_process_is_read_as_dead),
		STATS_TEST(test_histograms_and_in_use_gauge_are_read_back),
		STATS_TEST(test_parse_of_an_image_equals_read_of_its_file),
		STATS_TEST(test_every_truncation_of_an_image_is_refused),
		STATS_TEST(test_previous_layout_version_is_refused),
		STATS_TEST(test_counters_at_their_limit_are_read_and_saturate),
		STATS_TEST(test_bucket_upper_bounds_double_and_the_last_is_open),
		STATS_TEST(test_quantile_is_the_bucket_reaching_its_rank),
		STATS_TEST(test_segment_names_are_parsed_strictly),
		STATS_TEST(test_listing_finds_only_our_segments_in_pid_order),
		STATS_TEST(test_listing_empty_or_missing_directory),
		STATS_TEST(test_listed_path_is_where_the_writer_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
