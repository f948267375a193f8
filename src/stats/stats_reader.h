/*
 * stats_reader.h: sockpool-stat's side of the statistics segment (the
 * layout is in stats_layout.h).
 *
 * A segment is untrusted input: any process of the user can write into it,
 * and a file of that name may be planted by anyone in /dev/shm.  So a
 * segment is copied into private memory with read() (never mapped, so a
 * file truncated under us cannot raise SIGBUS) and every size, count and
 * string in it is checked against what was actually read before use.  A
 * check that fails gives a one-line reason, meant to be shown as is.
 */
#ifndef SOCKPOOL_STATS_READER_H
#define SOCKPOOL_STATS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats_layout.h"

/* Largest file stats_read_segment() will read; a real one is ~5 KiB. */
#define STATS_SEGMENT_MAX_BYTES (16u << 20)

/* A private, validated copy of one segment. */
struct stats_snapshot {
	pid_t pid;			/* > 0, from the header */
	bool alive;			/* the pid exists now (see stats_pid_alive) */
	uint64_t start_time_ns;		/* CLOCK_REALTIME at the writer's start */
	char program[SP_STATS_PROGRAM_MAX];	/* NUL-terminated */
	uint32_t max_dests;		/* size of the writer's table */
	struct sp_stats_counters totals;	/* process-wide counters */
	uint32_t ndests;		/* published records, in dests[] */
	struct sp_stats_dest dests[SP_STATS_MAX_DESTS];
};

/*
 * Reads and validates the segment at path into *out.  0, or -1 with a
 * one-line reason in err and errno set: the open() error (ENOENT: no such
 * file, ELOOP: a symbolic link, refused), or EINVAL for a file that is not
 * a valid segment of ours.
 */
int stats_read_segment(const char *path, struct stats_snapshot *out,
		       char *err, size_t errlen);

/*
 * Validates the segment image of len bytes at image (what read() gave)
 * and copies it into *out, leaving out->alive false.  No I/O: this is the
 * whole of the validation stats_read_segment() does after reading, and
 * what the fuzz target (tests/fuzz/fuzz_segment.c) calls.  0, or -1 with
 * a one-line reason in err and errno EINVAL.
 */
int stats_parse_segment(const void *image, size_t len, struct stats_snapshot *out,
			char *err, size_t errlen);

/* Parses "sockpool.<uid>.<pid>" strictly: plain decimal numbers without
 * sign or leading zero, pid > 0.  0, or -1 for any other name. */
int stats_parse_segment_name(const char *name, uid_t *uid, pid_t *pid);

/* Writes dir's segment path for (uid, pid) into buf.  0, or -1 if it does
 * not fit. */
int stats_segment_path(char *buf, size_t len, const char *dir, uid_t uid,
		       pid_t pid);

/*
 * Lists the pids of the segment files in dir named for the current user
 * (stats_read_segment() then checks the owner), in increasing order; find
 * a file with stats_segment_path().  *pids is malloc'd (NULL when there
 * are none) and the caller frees it.  0, or -1 with a reason in err and
 * errno set.
 */
int stats_list_segments(const char *dir, pid_t **pids, size_t *count,
			char *err, size_t errlen);

/* Whether counter c is a gauge (goes up and down: idle_now, in_use_now)
 * rather than a count that only grows.  A gauge is shown as a signed
 * number: a decrement that raced its increment must not show as 2^64-1. */
bool stats_counter_is_gauge(enum sp_counter c);

/* a + b, or UINT64_MAX if that overflows: sums of untrusted counters. */
uint64_t stats_add_saturated(uint64_t a, uint64_t b);

/*
 * Histograms (see stats_layout.h): bucket b counts observations v, in
 * microseconds, with 2^b <= v < 2^(b+1); bucket 0 also counts 0, and the
 * last bucket has no upper bound.
 */

/* Observations in h, saturated. */
uint64_t stats_hist_total(const uint64_t h[SP_HIST_BUCKETS]);

/* Exclusive upper bound of bucket b in microseconds, 2^(b+1); UINT64_MAX
 * for the last, open bucket. */
uint64_t stats_bucket_upper_us(unsigned b);

/*
 * The bucket holding the q-quantile (0 < q <= 1) of h: with n
 * observations, the first bucket whose cumulative count reaches
 * ceil(q * n).  The quantile lies in that bucket, so it is below
 * stats_bucket_upper_us() of it and at least half of that (except in
 * bucket 0).  -1 when h is empty.
 */
int stats_hist_quantile_bucket(const uint64_t h[SP_HIST_BUCKETS], double q);

/* Whether a process with this pid exists (it may be another user's, which
 * kill() reports as EPERM).  A pid reused since the writer died would look
 * alive: the answer is a hint, not a proof. */
bool stats_pid_alive(pid_t pid);

#endif
