/*
 * stat_summary.c: `sockpool-stat --summary`, the one line the launcher's
 * `sockpool --summary` prints after the command exits:
 *
 *   sockpool: 2000 requests, 2 connections opened, 1998 reused (99.9 %),
 *   3 retries, 0 errors passed on
 *
 * followed by ", N not pooled for a socket option" when there were such,
 * and by how the command ended when the launcher's supervisor says so
 * (--command-status, --command-signal) and it did not end well: "; the
 * command exited with status 130" is not "; the command was killed by
 * SIGINT", which only the supervisor's waitpid() can tell apart.
 *
 * It adds up the process-wide totals of every segment in the directory,
 * of dead processes too (the launcher has the shim keep them at exit with
 * SOCKPOOL_STATS_KEEP=1), leaving out those started before --since (a
 * shared --stats-dir holds older ones).  With --remove, the dead ones it
 * counted are removed afterwards, as --gc would.  Retries are connect
 * retries plus requests sent again; sums saturate rather than wrap, since
 * the figures come from files anyone of the user could have written.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../stats/stats_dead.h"
#include "stat_modes.h"
#include "stat_output.h"

struct summary {
	struct sp_stats_counters sum;	/* counts only: gauges mean nothing summed */
	unsigned processes, running, unreadable;
};

static void add_process(struct summary *t, const struct stats_snapshot *s)
{
	for (int c = 0; c < SP_COUNTER_COUNT; c++)
		if (!stats_counter_is_gauge((enum sp_counter)c))
			t->sum.c[c] = stats_add_saturated(t->sum.c[c], s->totals.c[c]);
	t->processes++;
	t->running += s->alive;
}

/* "; the command exited with status N" or "; ... killed by SIGNAME";
 * nothing for a command that ended well, or when nobody said. */
static void print_command_end(FILE *out, const struct stat_options *opt)
{
	const char *name;

	if (opt->command_signal != 0) {
		name = sigabbrev_np(opt->command_signal);
		if (name != NULL)
			fprintf(out, "; the command was killed by SIG%s", name);
		else
			fprintf(out, "; the command was killed by signal %d", opt->command_signal);
	} else if (opt->command_status > 0) {
		fprintf(out, "; the command exited with status %d", opt->command_status);
	}
}

static void print_summary(FILE *out, const struct summary *t, const struct stat_options *opt)
{
	const struct sp_stats_counters *c = &t->sum;
	double pct = figure_reuse_percent(c);

	if (t->processes == 0) {
		fprintf(out, "sockpool: no connection was pooled (no statistics were recorded)");
	} else {
		fprintf(out, "sockpool: %" PRIu64 " request%s, %" PRIu64 " connection%s opened, %"
			PRIu64 " reused", c->c[SP_REQUESTS], c->c[SP_REQUESTS] == 1 ? "" : "s",
			c->c[SP_CONNS_OPENED], c->c[SP_CONNS_OPENED] == 1 ? "" : "s",
			c->c[SP_CONNS_REUSED]);
		if (pct >= 0)
			fprintf(out, " (%.1f %%)", pct);
		fprintf(out, ", %" PRIu64 " retr%s, %" PRIu64 " error%s passed on",
			figure_retries(c), figure_retries(c) == 1 ? "y" : "ies",
			c->c[SP_ERRORS_PASSED], c->c[SP_ERRORS_PASSED] == 1 ? "" : "s");
		if (c->c[SP_NOT_POOLED_OPTION] != 0)
			fprintf(out, ", %" PRIu64 " not pooled for a socket option (-v names it)",
				c->c[SP_NOT_POOLED_OPTION]);
		if (t->processes > 1)
			fprintf(out, " (%u processes)", t->processes);
		if (t->running > 0)
			fprintf(out, "; %u still running", t->running);
	}
	if (t->unreadable > 0)
		fprintf(out, "; %u statistics file%s unreadable", t->unreadable,
			t->unreadable == 1 ? "" : "s");
	print_command_end(out, opt);
	fputc('\n', out);
}

/* --remove: the dead segments counted go, as --gc would remove them. */
static void remove_counted(const struct stat_options *opt, const struct view *v)
{
	char path[PATH_MAX], why[256];

	for (size_t i = 0; i < v->nprocs; i++) {
		const struct stats_snapshot *s = &v->procs[i];

		if (s->alive || s->start_time_ns < opt->since_ns ||
		    stats_segment_path(path, sizeof(path), opt->dir, getuid(), s->pid) != 0)
			continue;
		if (segment_remove_if_dead(path, s->pid, false, why, sizeof(why)) < 0)
			fprintf(stderr, ME ": cannot remove %s: %s\n", path, why);
	}
}

int run_summary(const struct stat_options *opt)
{
	struct summary t = { 0 };
	struct view v;

	if (view_collect(opt, false, &v) != COLLECTED) {
		view_free(&v);
		return 1;
	}
	for (size_t i = 0; i < v.nprocs; i++)
		if (v.procs[i].start_time_ns >= opt->since_ns)
			add_process(&t, &v.procs[i]);
	t.unreadable = (unsigned)v.nerrors;
	view_print_errors(&v);
	print_summary(stdout, &t, opt);
	if (opt->remove)
		remove_counted(opt, &v);
	view_free(&v);
	return output_finish();
}
