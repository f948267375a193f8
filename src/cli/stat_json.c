/*
 * stat_json.c: the view as one JSON document, for scripts.
 *
 * The schema only grows: keys are never renamed or removed, and a reader
 * must ignore keys it does not know.  "schema" counts the additions (1:
 * processes, totals, destinations, errors; 2: schema, layout_version,
 * time_ns, host, histogram_buckets_us, histograms, in_use_now,
 * max_destinations; 3: not_pooled_option; 4: the shared pool's
 * broker_taken_back, broker_handed_out, broker_dropped, broker_refused,
 * handoff_lost; 5: speculated, speculation_settled).  The full schema is
 * in `sockpool-stat --help`.
 * Counters are JSON integers (a consumer that parses numbers as doubles
 * loses precision above 2^53, as it would with any counter); gauges are
 * signed.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>

#include "stat_escape.h"
#include "stat_output.h"

#define JSON_SCHEMA 5

static void json_counters(FILE *out, const struct sp_stats_counters *c)
{
	for (int i = 0; i < SP_COUNTER_COUNT; i++) {
		fprintf(out, "%s\"%s\":", i > 0 ? "," : "", counter_names[i]);
		if (stats_counter_is_gauge((enum sp_counter)i))
			fprintf(out, "%" PRId64, view_gauge(c, (enum sp_counter)i));
		else
			fprintf(out, "%" PRIu64, c->c[i]);
	}
}

/* "histograms":{"connect_us":[n0,...,n31],...} */
static void json_histograms(FILE *out, const struct sp_stats_counters *c)
{
	fputs("\"histograms\":{", out);
	for (int i = 0; i < SP_HIST_COUNT; i++) {
		fprintf(out, "%s\"%s\":[", i > 0 ? "," : "", hist_names[i]);
		for (unsigned b = 0; b < SP_HIST_BUCKETS; b++)
			fprintf(out, "%s%" PRIu64, b > 0 ? "," : "", c->h[i][b]);
		fputc(']', out);
	}
	fputc('}', out);
}

static void json_destination(FILE *out, const struct sp_stats_dest *r)
{
	struct dest_key key = view_record_key(r);
	char dest[DEST_KEY_TEXT_MAX], addr[INET6_ADDRSTRLEN];

	dest_key_format(&key, dest, sizeof(dest));
	/* Cannot fail: the reader admits only these two families. */
	if (inet_ntop(r->family, r->addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	fputs("{\"dest\":", out);
	escape_json_string(out, dest);
	fprintf(out, ",\"family\":\"%s\",\"address\":", r->family == AF_INET6 ? "ipv6" : "ipv4");
	escape_json_string(out, addr);
	fprintf(out, ",\"port\":%u,", (unsigned)r->port);
	json_counters(out, &r->counters);
	fputc(',', out);
	json_histograms(out, &r->counters);
	fputc('}', out);
}

static void json_process(FILE *out, const struct stats_snapshot *s)
{
	fprintf(out, "{\"pid\":%d,\"program\":", (int)s->pid);
	escape_json_string(out, s->program);
	fprintf(out, ",\"alive\":%s,\"start_time_ns\":%" PRIu64
		",\"max_destinations\":%" PRIu32 ",\"totals\":{",
		s->alive ? "true" : "false", s->start_time_ns, s->max_dests);
	json_counters(out, &s->totals);
	fputs("},", out);
	json_histograms(out, &s->totals);
	fputs(",\"destinations\":[", out);
	for (uint32_t i = 0; i < s->ndests; i++) {
		if (i > 0)
			fputc(',', out);
		json_destination(out, &s->dests[i]);
	}
	fputs("]}", out);
}

static void json_host(FILE *out, const struct view *v)
{
	fputs("\"host\":{", out);
	if (!v->has_host) {
		fputs("\"error\":", out);
		escape_json_string(out, v->host_error);
		fputc('}', out);
		return;
	}
	fputs("\"tcp_states\":{", out);
	for (unsigned st = 1; st <= HOST_TCP_STATE_MAX; st++)
		fprintf(out, "%s\"%s\":%" PRIu64, st > 1 ? "," : "", host_tcp_state_name(st),
			v->host.state[st]);
	fprintf(out, "},\"unparsed_lines\":%" PRIu64 ",\"cut\":%s}", v->host.unparsed,
		v->host.cut ? "true" : "false");
}

/* The upper bounds of the buckets, null for the open last one. */
static void json_bucket_bounds(FILE *out)
{
	fputs("\"histogram_buckets_us\":[", out);
	for (unsigned b = 0; b < SP_HIST_BUCKETS; b++) {
		uint64_t upper = stats_bucket_upper_us(b);

		if (b > 0)
			fputc(',', out);
		if (upper == UINT64_MAX)
			fputs("null", out);
		else
			fprintf(out, "%" PRIu64, upper);
	}
	fputc(']', out);
}

void json_print_view(FILE *out, const struct view *v)
{
	fprintf(out, "{\"schema\":%d,\"layout_version\":%u,\"time_ns\":%" PRIu64 ",",
		JSON_SCHEMA, SP_STATS_VERSION, v->taken_ns);
	json_host(out, v);
	fputc(',', out);
	json_bucket_bounds(out);
	fputs(",\"processes\":[", out);
	for (size_t i = 0; i < v->nprocs; i++) {
		if (i > 0)
			fputc(',', out);
		json_process(out, &v->procs[i]);
	}
	fputs("],\"errors\":[", out);
	for (size_t i = 0; i < v->nerrors; i++) {
		fprintf(out, "%s{\"file\":", i > 0 ? "," : "");
		escape_json_string(out, v->errors[i].file);
		fputs(",\"error\":", out);
		escape_json_string(out, v->errors[i].error);
		fputc('}', out);
	}
	fputs("]}\n", out);
}
