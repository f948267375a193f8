/*
 * stat_view.c: collects a view (see stat_view.h): lists the user's
 * segments in the directory, reads each with the stats reader, and checks
 * that each file holds the process its name says.
 *
 * A file that vanishes between the listing and the reading is a process
 * that just exited: it is left out silently.  Any other failure is an
 * error line for that file, and the others still show.
 */
#include "stat_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const counter_names[SP_COUNTER_COUNT] = {
#define COUNTER_NAME(id, name, help) name,
	SP_COUNTER_LIST(COUNTER_NAME)
#undef COUNTER_NAME
};

const char *const counter_help[SP_COUNTER_COUNT] = {
#define COUNTER_HELP(id, name, help) help,
	SP_COUNTER_LIST(COUNTER_HELP)
#undef COUNTER_HELP
};

const char *const hist_names[SP_HIST_COUNT] = {
#define HIST_NAME(id, name, help) name,
	SP_HIST_LIST(HIST_NAME)
#undef HIST_NAME
};

const char *const hist_help[SP_HIST_COUNT] = {
#define HIST_HELP(id, name, help) help,
	SP_HIST_LIST(HIST_HELP)
#undef HIST_HELP
};

uint64_t view_now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void add_error(struct view *v, const char *file, const char *error)
{
	struct view_error *e = &v->errors[v->nerrors++];

	snprintf(e->file, sizeof(e->file), "%s", file);
	snprintf(e->error, sizeof(e->error), "%s", error);
}

/*
 * Reads the segment at path, named for name_pid, into the next slot of v.
 * 0: shown; 1: no such file (for a listed one: its process just exited);
 * -1: a bad segment, recorded in v->errors.
 */
static int read_into_view(struct view *v, const char *path, pid_t name_pid)
{
	struct stats_snapshot *s = &v->procs[v->nprocs];
	char err[256];

	if (stats_read_segment(path, s, err, sizeof(err)) != 0) {
		if (errno == ENOENT)
			return 1;
		add_error(v, path, err);
		return -1;
	}
	if (s->pid != name_pid) {
		snprintf(err, sizeof(err), "the header says pid %d, the file name %d",
			 (int)s->pid, (int)name_pid);
		add_error(v, path, err);
		return -1;
	}
	v->nprocs++;
	return 0;
}

/* Room in v for n segments. */
static int view_alloc(struct view *v, size_t n)
{
	if (n == 0)
		n = 1;
	v->procs = calloc(n, sizeof(*v->procs));
	v->errors = calloc(n, sizeof(*v->errors));
	if (v->procs == NULL || v->errors == NULL) {
		fprintf(stderr, ME ": out of memory\n");
		return -1;
	}
	return 0;
}

void view_free(struct view *v)
{
	free(v->procs);
	free(v->errors);
	*v = (struct view){ 0 };
}

/* The segment of opt->pid only. */
static enum collect_result collect_one(const struct stat_options *opt, struct view *v)
{
	char path[PATH_MAX];
	int rc;

	if (view_alloc(v, 1) != 0)
		return COLLECT_FAILED;
	if (stats_segment_path(path, sizeof(path), opt->dir, getuid(), opt->pid) != 0) {
		fprintf(stderr, ME ": directory name too long: %s\n", opt->dir);
		return COLLECT_FAILED;
	}
	rc = read_into_view(v, path, opt->pid);
	if (rc == 1)
		return NO_SEGMENT;
	if (rc < 0) {
		fprintf(stderr, ME ": %s: %s\n", v->errors[0].file, v->errors[0].error);
		return COLLECT_FAILED;
	}
	return COLLECTED;
}

/* Every segment of ours in opt->dir; fails only when the directory cannot
 * be read. */
static enum collect_result collect_all(const struct stat_options *opt, struct view *v)
{
	char err[256], path[PATH_MAX];
	pid_t *pids;
	size_t n;

	if (stats_list_segments(opt->dir, &pids, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, ME ": %s: %s\n", opt->dir, err);
		return COLLECT_FAILED;
	}
	if (view_alloc(v, n) != 0) {
		free(pids);
		return COLLECT_FAILED;
	}
	for (size_t i = 0; i < n; i++) {
		/* Cannot fail: stats_list_segments() read it from this dir. */
		if (stats_segment_path(path, sizeof(path), opt->dir, getuid(), pids[i]) != 0)
			continue;
		read_into_view(v, path, pids[i]);
	}
	free(pids);
	return COLLECTED;
}

enum collect_result view_collect(const struct stat_options *opt, bool want_host,
				 struct view *v)
{
	enum collect_result got;

	*v = (struct view){
		.taken_ns = view_now_ns(CLOCK_REALTIME),
		.taken_mono_ns = view_now_ns(CLOCK_MONOTONIC),
	};
	got = opt->pid != 0 ? collect_one(opt, v) : collect_all(opt, v);
	if (got == COLLECTED && want_host)
		v->has_host = host_tcp_read(&v->host, v->host_error, sizeof(v->host_error)) == 0;
	return got;
}

void view_print_errors(const struct view *v)
{
	for (size_t i = 0; i < v->nerrors; i++)
		fprintf(stderr, ME ": %s: %s\n", v->errors[i].file, v->errors[i].error);
}

void view_say_no_segment(const struct stat_options *opt)
{
	fprintf(stderr, ME ": no statistics for pid %d in %s (not running under sockpool,"
		" no connection pooled yet, statistics off, or another directory?)\n",
		(int)opt->pid, opt->dir);
}

struct dest_key view_record_key(const struct sp_stats_dest *r)
{
	struct dest_key key = {
		.family = r->family, .port = r->port, .scope_id = r->scope_id,
	};

	memcpy(key.addr, r->addr, sizeof(key.addr));
	return key;
}

bool view_same_dest(const struct sp_stats_dest *a, const struct sp_stats_dest *b)
{
	return a->family == b->family && a->port == b->port &&
	       a->scope_id == b->scope_id && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

const struct stats_snapshot *view_find_process(const struct view *v,
					       const struct stats_snapshot *s)
{
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < v->nprocs; i++)
		if (v->procs[i].pid == s->pid && v->procs[i].start_time_ns == s->start_time_ns)
			return &v->procs[i];
	return NULL;
}

int64_t view_gauge(const struct sp_stats_counters *counters, enum sp_counter c)
{
	return (int64_t)counters->c[c];
}
