/*
 * stat_prom.c: the view in the Prometheus text exposition format (0.0.4),
 * for node_exporter's textfile collector or any scraper:
 *
 *   sockpool-stat --prometheus > /var/lib/node_exporter/sockpool.prom.$$ &&
 *     mv /var/lib/node_exporter/sockpool.prom.$$ /var/lib/node_exporter/sockpool.prom
 *
 * Every family is written whole (HELP, TYPE, then every sample of it, for
 * every process) because the format wants a family's samples together.
 * Counters end in _total; idle_now and in_use_now are gauges; the log2
 * microsecond histograms become histograms in seconds whose le bounds are
 * the buckets' upper bounds (exact decimals: 0.000002 ... 2147.483648,
 * then +Inf).  _count is the +Inf bucket.  There is no _sum: the segment
 * keeps no sum of the values, and an estimate would pass for a measure.
 *
 * Labels: pid, program (from the segment: escaped), dest ("127.0.0.1:80",
 * "[::1]:80").  When a process's table of destinations is full, what the
 * later destinations counted shows as dest="other", so that summing over
 * dest gives the process's total; the totals are not written separately,
 * which would count everything twice in such a sum.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stat_escape.h"
#include "stat_output.h"

#define PREFIX "sockpool_"

/* What the later destinations of a full table counted: totals minus the
 * records, never below zero for counts (records and totals are read at
 * slightly different moments, so a difference may be a little off). */
static void other_counters(const struct stats_snapshot *s, struct sp_stats_counters *o)
{
	*o = s->totals;
	for (uint32_t i = 0; i < s->ndests; i++) {
		const struct sp_stats_counters *d = &s->dests[i].counters;

		for (int c = 0; c < SP_COUNTER_COUNT; c++) {
			if (stats_counter_is_gauge((enum sp_counter)c))
				o->c[c] -= d->c[c];	/* signed in effect */
			else
				o->c[c] = o->c[c] > d->c[c] ? o->c[c] - d->c[c] : 0;
		}
		for (int h = 0; h < SP_HIST_COUNT; h++)
			for (unsigned b = 0; b < SP_HIST_BUCKETS; b++)
				o->h[h][b] = o->h[h][b] > d->h[h][b] ? o->h[h][b] - d->h[h][b] : 0;
	}
}

static bool has_other(const struct stats_snapshot *s)
{
	return s->max_dests > 0 && s->ndests == s->max_dests;
}

static void print_family_head(FILE *out, const char *name, const char *suffix,
			      const char *help, const char *type)
{
	fprintf(out, "# HELP " PREFIX "%s%s %s\n# TYPE " PREFIX "%s%s %s\n",
		name, suffix, help, name, suffix, type);
}

/* {pid="1",program="x",dest="y" — the closing brace is the caller's, who
 * may add a label. */
static void print_labels(FILE *out, const struct stats_snapshot *s, const char *dest)
{
	fprintf(out, "{pid=\"%d\",program=\"", (int)s->pid);
	escape_prom_label(out, s->program);
	fputc('"', out);
	if (dest != NULL) {
		fputs(",dest=\"", out);
		escape_prom_label(out, dest);
		fputc('"', out);
	}
}

static void print_counter_sample(FILE *out, const char *metric, const struct stats_snapshot *s,
				 const char *dest, const struct sp_stats_counters *c, int i)
{
	fprintf(out, PREFIX "%s", metric);
	print_labels(out, s, dest);
	if (stats_counter_is_gauge((enum sp_counter)i))
		fprintf(out, "} %" PRId64 "\n", view_gauge(c, (enum sp_counter)i));
	else
		fprintf(out, "} %" PRIu64 "\n", c->c[i]);
}

/* One labelled series of a process: a destination, or "other". */
struct series {
	char dest[DEST_KEY_TEXT_MAX];
	const struct sp_stats_counters *counters;
};

/* The series of process s into out (room for SP_STATS_MAX_DESTS + 1):
 * its records, then "other" (kept in *other) when its table is full. */
static size_t process_series(const struct stats_snapshot *s, struct series *out,
			     struct sp_stats_counters *other)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->ndests; i++, n++) {
		struct dest_key key = view_record_key(&s->dests[i]);

		dest_key_format(&key, out[n].dest, sizeof(out[n].dest));
		out[n].counters = &s->dests[i].counters;
	}
	if (has_other(s)) {
		other_counters(s, other);
		snprintf(out[n].dest, sizeof(out[n].dest), "other");
		out[n++].counters = other;
	}
	return n;
}

static void print_counter_family(FILE *out, const struct view *v, int i)
{
	bool gauge = stats_counter_is_gauge((enum sp_counter)i);
	char metric[64];

	snprintf(metric, sizeof(metric), "%s%s", counter_names[i], gauge ? "" : "_total");
	print_family_head(out, metric, "", counter_help[i], gauge ? "gauge" : "counter");
	for (size_t p = 0; p < v->nprocs; p++) {
		struct series series[SP_STATS_MAX_DESTS + 1];
		struct sp_stats_counters other;
		size_t n = process_series(&v->procs[p], series, &other);

		for (size_t k = 0; k < n; k++)
			print_counter_sample(out, metric, &v->procs[p], series[k].dest,
					     series[k].counters, i);
	}
}

/* An le bound: 2^(b+1) microseconds as an exact decimal of seconds. */
static void format_le(char *buf, size_t len, unsigned b)
{
	uint64_t us = stats_bucket_upper_us(b);
	size_t n;

	if (us == UINT64_MAX) {
		snprintf(buf, len, "+Inf");
		return;
	}
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

/* "connect_us" -> "connect_seconds" */
static void hist_metric(char *buf, size_t len, int h)
{
	const char *name = hist_names[h];
	size_t stem = strlen(name);

	if (stem > 3 && strcmp(name + stem - 3, "_us") == 0)
		stem -= 3;
	snprintf(buf, len, "%.*s_seconds", (int)stem, name);
}

static void print_histogram_series(FILE *out, const char *metric, const struct stats_snapshot *s,
				   const char *dest, const uint64_t *h)
{
	uint64_t cumulative = 0;
	char le[32];

	for (unsigned b = 0; b < SP_HIST_BUCKETS; b++) {
		cumulative = stats_add_saturated(cumulative, h[b]);
		format_le(le, sizeof(le), b);
		fprintf(out, PREFIX "%s_bucket", metric);
		print_labels(out, s, dest);
		fprintf(out, ",le=\"%s\"} %" PRIu64 "\n", le, cumulative);
	}
	fprintf(out, PREFIX "%s_count", metric);
	print_labels(out, s, dest);
	fprintf(out, "} %" PRIu64 "\n", cumulative);
}

static void print_histogram_family(FILE *out, const struct view *v, int h)
{
	char metric[64], help[160];

	hist_metric(metric, sizeof(metric), h);
	snprintf(help, sizeof(help), "%s (log2 buckets; no _sum is kept)", hist_help[h]);
	print_family_head(out, metric, "", help, "histogram");
	for (size_t p = 0; p < v->nprocs; p++) {
		struct series series[SP_STATS_MAX_DESTS + 1];
		struct sp_stats_counters other;
		size_t n = process_series(&v->procs[p], series, &other);

		for (size_t k = 0; k < n; k++)
			print_histogram_series(out, metric, &v->procs[p], series[k].dest,
					       series[k].counters->h[h]);
	}
}

static void print_process_families(FILE *out, const struct view *v)
{
	print_family_head(out, "process_alive", "",
			  "1 while the process of a segment runs, 0 once it is gone", "gauge");
	for (size_t p = 0; p < v->nprocs; p++) {
		fputs(PREFIX "process_alive", out);
		print_labels(out, &v->procs[p], NULL);
		fprintf(out, "} %d\n", v->procs[p].alive ? 1 : 0);
	}
	print_family_head(out, "process_start_time_seconds", "",
			  "when the process started counting, seconds since the epoch", "gauge");
	for (size_t p = 0; p < v->nprocs; p++) {
		uint64_t ns = v->procs[p].start_time_ns;

		fputs(PREFIX "process_start_time_seconds", out);
		print_labels(out, &v->procs[p], NULL);
		fprintf(out, "} %" PRIu64 ".%09" PRIu64 "\n", ns / 1000000000u, ns % 1000000000u);
	}
	print_family_head(out, "segment_errors", "",
			  "statistics segments that could not be read", "gauge");
	fprintf(out, PREFIX "segment_errors %zu\n", v->nerrors);
}

static void print_host_family(FILE *out, const struct view *v)
{
	if (!v->has_host)
		return;
	print_family_head(out, "host_tcp_sockets", "",
			  "TCP sockets of this network namespace by state (/proc/net/tcp, tcp6)",
			  "gauge");
	for (unsigned st = 1; st <= HOST_TCP_STATE_MAX; st++)
		fprintf(out, PREFIX "host_tcp_sockets{state=\"%s\"} %" PRIu64 "\n",
			host_tcp_state_name(st), v->host.state[st]);
}

void prom_print_view(FILE *out, const struct view *v)
{
	print_host_family(out, v);
	print_process_families(out, v);
	for (int i = 0; i < SP_COUNTER_COUNT; i++)
		print_counter_family(out, v, i);
	for (int h = 0; h < SP_HIST_COUNT; h++)
		print_histogram_family(out, v, h);
}
