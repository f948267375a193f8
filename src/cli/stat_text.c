/*
 * stat_text.c: the view for people, as vmstat or varnishstat would show
 * it: the host's TCP sockets by state on one line, then one block per
 * process with a row per destination and a total row.
 *
 * Counts are totals since the process started; the "/s" columns are
 * rates over the time since the previous view (none in the first frame or
 * with --once).  Every line is plain printable ASCII (program names are
 * escaped), so the live view can cut lines to the terminal's width by
 * counting bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stat_escape.h"
#include "stat_output.h"

/* The columns of a destination row, destination last: an IPv6 address
 * with a scope is long, and there it misaligns nothing. */
#define ROW_FORMAT "  %10s %8s %8s %7s %10s %6s %5s %5s %7s %6s %7s %7s %8s %7s  %s\n"

static void format_duration(char *buf, size_t len, uint64_t s)
{
	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

/* A rate per second of counter c between prev and cur over dt_s seconds;
 * "-" without a previous value, or if the counter went down (it never
 * should: then the figure would be a lie). */
static void format_rate(char *buf, size_t len, const struct sp_stats_counters *cur,
			const struct sp_stats_counters *prev, double dt_s, enum sp_counter c)
{
	double r;

	if (prev == NULL || dt_s <= 0 || cur->c[c] < prev->c[c]) {
		snprintf(buf, len, "-");
		return;
	}
	r = (double)(cur->c[c] - prev->c[c]) / dt_s;
	snprintf(buf, len, r < 10 ? "%.1f" : "%.0f", r);
}

static void format_u64(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v);
}

static void print_heading_row(FILE *out)
{
	fprintf(out, ROW_FORMAT, "requests", "req/s", "opened", "open/s", "reused",
		"reuse", "idle", "inuse", "retries", "errors", "req p50", "p99",
		"conn p50", "p99", "destination");
}

/* One row: counters cur, with prev (may be NULL) for the rates. */
static void print_row(FILE *out, const char *label, const struct sp_stats_counters *cur,
		      const struct sp_stats_counters *prev, double dt_s)
{
	char req[24], req_rate[24], opened[24], open_rate[24], reused[24], reuse[16];
	char idle[24], inuse[24], retries[24], errors[24], rq50[24], rq99[24];
	char cn50[24], cn99[24];
	double pct = figure_reuse_percent(cur);

	format_u64(req, sizeof(req), cur->c[SP_REQUESTS]);
	format_rate(req_rate, sizeof(req_rate), cur, prev, dt_s, SP_REQUESTS);
	format_u64(opened, sizeof(opened), cur->c[SP_CONNS_OPENED]);
	format_rate(open_rate, sizeof(open_rate), cur, prev, dt_s, SP_CONNS_OPENED);
	format_u64(reused, sizeof(reused), cur->c[SP_CONNS_REUSED]);
	if (pct < 0)
		snprintf(reuse, sizeof(reuse), "-");
	else
		snprintf(reuse, sizeof(reuse), "%.1f%%", pct);
	snprintf(idle, sizeof(idle), "%" PRId64, view_gauge(cur, SP_IDLE_NOW));
	snprintf(inuse, sizeof(inuse), "%" PRId64, view_gauge(cur, SP_IN_USE_NOW));
	format_u64(retries, sizeof(retries), figure_retries(cur));
	format_u64(errors, sizeof(errors), cur->c[SP_ERRORS_PASSED]);
	figure_quantile(rq50, sizeof(rq50), cur->h[SP_HIST_REQUEST_TIME], 0.50);
	figure_quantile(rq99, sizeof(rq99), cur->h[SP_HIST_REQUEST_TIME], 0.99);
	figure_quantile(cn50, sizeof(cn50), cur->h[SP_HIST_CONNECT_TIME], 0.50);
	figure_quantile(cn99, sizeof(cn99), cur->h[SP_HIST_CONNECT_TIME], 0.99);
	fprintf(out, ROW_FORMAT, req, req_rate, opened, open_rate, reused, reuse, idle,
		inuse, retries, errors, rq50, rq99, cn50, cn99, label);
}

/* The states people watch always show, the others when not zero. */
static bool state_always_shown(unsigned st)
{
	return st == 1 || st == 2 || st == 6 || st == 8;	/* ESTAB, SYN_SENT, TIME_WAIT, CLOSE_WAIT */
}

static void print_host_line(FILE *out, const struct view *v)
{
	if (!v->has_host) {
		fprintf(out, "host TCP: unknown (%s)\n", v->host_error);
		return;
	}
	fputs("host TCP:", out);
	for (unsigned st = 1; st <= HOST_TCP_STATE_MAX; st++)
		if (state_always_shown(st) || v->host.state[st] != 0)
			fprintf(out, " %s %" PRIu64, host_tcp_state_name(st), v->host.state[st]);
	if (v->host.unparsed != 0)
		fprintf(out, "  (%" PRIu64 " lines not understood)", v->host.unparsed);
	if (v->host.cut)
		fprintf(out, "  (cut at %u sockets per file)", HOST_TCP_LINES_MAX);
	fputc('\n', out);
}

static void print_process_line(FILE *out, const struct stats_snapshot *s, uint64_t now)
{
	char age[32] = "?";	/* a start in the future: the clock was set back */

	if (now >= s->start_time_ns)
		format_duration(age, sizeof(age), (now - s->start_time_ns) / 1000000000u);
	fprintf(out, "pid %d  ", (int)s->pid);
	escape_terminal(out, s->program[0] != '\0' ? s->program : "?");
	if (s->alive)
		fprintf(out, "  alive  up %s\n", age);
	else
		fprintf(out, "  dead (started %s ago; '" ME " --gc' removes it)\n", age);
}

/* The record for the same destination in prev (may be NULL). */
static const struct sp_stats_counters *prev_dest(const struct stats_snapshot *prev,
						 const struct sp_stats_dest *r, uint32_t i)
{
	if (prev == NULL)
		return NULL;
	/* Records are only appended: the same index, as a rule. */
	if (i < prev->ndests && view_same_dest(&prev->dests[i], r))
		return &prev->dests[i].counters;
	for (uint32_t j = 0; j < prev->ndests; j++)
		if (view_same_dest(&prev->dests[j], r))
			return &prev->dests[j].counters;
	return NULL;
}

static void print_process(FILE *out, const struct stats_snapshot *s,
			  const struct stats_snapshot *prev, double dt_s, uint64_t now)
{
	char dest[DEST_KEY_TEXT_MAX];

	print_process_line(out, s, now);
	print_heading_row(out);
	for (uint32_t i = 0; i < s->ndests; i++) {
		struct dest_key key = view_record_key(&s->dests[i]);

		dest_key_format(&key, dest, sizeof(dest));
		print_row(out, dest, &s->dests[i].counters, prev_dest(prev, &s->dests[i], i), dt_s);
	}
	print_row(out, "total", &s->totals, prev != NULL ? &prev->totals : NULL, dt_s);
	if (s->ndests == s->max_dests && s->max_dests > 0)
		fprintf(out, "  (table full: later destinations count in the total only)\n");
	/* Not a column: zero for nearly every program, and when it is not,
	 * the cause is one the user has to look up (sockpool -v names it). */
	if (s->totals.c[SP_NOT_POOLED_OPTION] != 0)
		fprintf(out, "  %" PRIu64 " connection%s not pooled: the program set a socket option "
			"sockpool cannot carry (sockpool -v names it)\n",
			s->totals.c[SP_NOT_POOLED_OPTION],
			s->totals.c[SP_NOT_POOLED_OPTION] == 1 ? "" : "s");
	/* The shared pool's own line: what it holds and moved. */
	if (s->totals.c[SP_BROKER_TAKEN_BACK] != 0 || s->totals.c[SP_BROKER_HANDED_OUT] != 0 ||
	    s->totals.c[SP_BROKER_DROPPED] != 0)
		fprintf(out, "  shared pool: %" PRIu64 " held, %" PRIu64 " taken back, %" PRIu64
			" handed out, %" PRIu64 " dropped, %" PRIu64 " peers refused\n",
			s->totals.c[SP_IDLE_NOW], s->totals.c[SP_BROKER_TAKEN_BACK],
			s->totals.c[SP_BROKER_HANDED_OUT], s->totals.c[SP_BROKER_DROPPED],
			s->totals.c[SP_BROKER_REFUSED]);
}

void text_print_view(FILE *out, const struct view *v, const struct view *prev,
		     const struct stat_options *opt)
{
	double dt_s = 0;

	if (prev != NULL && v->taken_mono_ns > prev->taken_mono_ns)
		dt_s = (double)(v->taken_mono_ns - prev->taken_mono_ns) / 1e9;
	print_host_line(out, v);
	if (v->nprocs == 0 && opt->pid == 0) {
		fputs("no sockpool statistics of yours in ", out);
		escape_terminal(out, opt->dir);
		fputc('\n', out);
	}
	for (size_t i = 0; i < v->nprocs; i++) {
		fputc('\n', out);
		print_process(out, &v->procs[i], view_find_process(prev, &v->procs[i]),
			      dt_s, v->taken_ns);
	}
}

void text_print_heading(FILE *out, const struct view *v, const struct stat_options *opt,
			bool keys)
{
	char clock[16] = "";
	time_t t = (time_t)(v->taken_ns / 1000000000u);
	struct tm tm;

	if (localtime_r(&t, &tm) != NULL)
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	fprintf(out, ME " %s  ", clock);
	escape_terminal(out, opt->dir);
	fprintf(out, "  every %gs%s\n",
		(double)opt->interval.tv_sec + (double)opt->interval.tv_nsec / 1e9,
		keys ? "  q quits" : "");
}
