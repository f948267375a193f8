/*
 * stat_view.h: what one look at the statistics directory finds, shared by
 * every output of sockpool-stat.
 *
 * A view is the validated snapshots of the segments found (their reading
 * is src/stats/stats_reader.c's: nothing in a segment is trusted), the
 * one-line errors of those that could not be read, and optionally the
 * host's TCP socket counts.  The formatters (stat_text.c, stat_json.c,
 * stat_prom.c) only read a view.
 */
#ifndef SOCKPOOL_CLI_STAT_VIEW_H
#define SOCKPOOL_CLI_STAT_VIEW_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../core/dest.h"
#include "../stats/stats_reader.h"
#include "stat_host.h"

#define ME "sockpool-stat"

/* What the command line asked for. */
struct stat_options {
	enum { MODE_LIVE, MODE_ONCE, MODE_JSON, MODE_PROMETHEUS, MODE_GC,
	       MODE_SUMMARY } mode;
	pid_t pid;			/* 0: every process */
	const char *dir;
	struct timespec interval;
	uint64_t since_ns;		/* --summary: segments started since */
	bool remove;			/* --summary: remove dead ones counted */
	int command_status;		/* --summary: how the command ended, */
	int command_signal;		/* from its supervisor; -1 and 0: untold */
};

struct view_error {
	char file[PATH_MAX];
	char error[256];
};

struct view {
	struct stats_snapshot *procs;
	size_t nprocs;
	struct view_error *errors;
	size_t nerrors;
	uint64_t taken_ns;		/* CLOCK_REALTIME of the look */
	uint64_t taken_mono_ns;		/* CLOCK_MONOTONIC, for rates */
	bool has_host;			/* host was asked for and read */
	struct host_tcp host;
	char host_error[256];		/* why not, when asked for */
};

enum collect_result {
	COLLECTED,
	NO_SEGMENT,		/* for -p: the process has no file (left unsaid) */
	COLLECT_FAILED,		/* and said why on stderr */
};

/* Names and help texts of the counters and histograms, by index. */
extern const char *const counter_names[SP_COUNTER_COUNT];
extern const char *const counter_help[SP_COUNTER_COUNT];
extern const char *const hist_names[SP_HIST_COUNT];
extern const char *const hist_help[SP_HIST_COUNT];

/* Reads opt->pid's segment, or every one of ours in opt->dir, and with
 * want_host the host's TCP counts.  Fails only when the directory cannot
 * be read (or -p's file is bad or missing); a bad file among many is an
 * entry in v->errors.  Free v with view_free() whatever the result. */
enum collect_result view_collect(const struct stat_options *opt, bool want_host,
				 struct view *v);
void view_free(struct view *v);

/* Prints v's errors on stderr, one line each. */
void view_print_errors(const struct view *v);

/* Says on stderr that opt->pid has no segment in opt->dir (what
 * view_collect() leaves unsaid when it returns NO_SEGMENT). */
void view_say_no_segment(const struct stat_options *opt);

/* The dest_key of a record, for dest_key_format(). */
struct dest_key view_record_key(const struct sp_stats_dest *r);

/* Whether two records are for the same destination. */
bool view_same_dest(const struct sp_stats_dest *a, const struct sp_stats_dest *b);

/* The snapshot in v of the same process as s (same pid and start time:
 * a pid reused by a new process is another process), or NULL. */
const struct stats_snapshot *view_find_process(const struct view *v,
					       const struct stats_snapshot *s);

/* Counter c of counters as a gauge may be: a signed value. */
int64_t view_gauge(const struct sp_stats_counters *counters, enum sp_counter c);

uint64_t view_now_ns(clockid_t clock);

#endif
