/*
 * stat_figures.c: figures derived from the raw counters, computed one way
 * for the text, JSON and summary outputs alike.
 *
 * Percentiles from log2 histograms: bucket b holds the observations from
 * 2^b to 2^(b+1) microseconds.  The q-quantile is in the first bucket
 * whose cumulative count reaches ceil(q * n) (stats_hist_quantile_bucket)
 * and is shown as that bucket's upper bound: a p99 of "1.05ms" says the
 * 99th percentile is below 2^20 microseconds and at least 2^19.  An upper
 * bound errs on the side people can act on, and a factor of two is what
 * log2 buckets can tell.  The last bucket has no upper bound: ">2147s".
 */
#include <inttypes.h>
#include <stdio.h>

#include "stat_output.h"

uint64_t figure_retries(const struct sp_stats_counters *c)
{
	uint64_t n = c->c[SP_CONNECT_RETRIES];

	n = stats_add_saturated(n, c->c[SP_REPLAYS_RESET]);
	n = stats_add_saturated(n, c->c[SP_REPLAYS_EPIPE]);
	return stats_add_saturated(n, c->c[SP_REPLAYS_EOF]);
}

double figure_reuse_percent(const struct sp_stats_counters *c)
{
	uint64_t reused = c->c[SP_CONNS_REUSED];
	uint64_t all = stats_add_saturated(c->c[SP_CONNS_OPENED], reused);
	double tenths;

	if (all == 0)
		return -1;
	if (reused > all)	/* only when the sum saturated */
		reused = all;
	tenths = 1000.0 * (double)reused / (double)all;
	return (double)(uint64_t)tenths / 10.0;	/* down, without libm */
}

/* us microseconds with three significant digits and a unit (a whole
 * number of seconds from 1000 s on, where %g would turn to 1.07e+03). */
static void format_us(char *buf, size_t len, uint64_t us)
{
	if (us < 1000)
		snprintf(buf, len, "%" PRIu64 "us", us);
	else if (us < 1000000)
		snprintf(buf, len, "%.3gms", (double)us / 1e3);
	else if (us < 1000000000)
		snprintf(buf, len, "%.3gs", (double)us / 1e6);
	else
		snprintf(buf, len, "%.0fs", (double)us / 1e6);
}

void figure_quantile(char *buf, size_t len, const uint64_t *h, double q)
{
	int b = stats_hist_quantile_bucket(h, q);

	if (b < 0) {
		snprintf(buf, len, "-");
	} else if (stats_bucket_upper_us((unsigned)b) == UINT64_MAX) {
		/* The open last bucket: only its lower bound is known. */
		char lower[32];

		format_us(lower, sizeof(lower), stats_bucket_upper_us((unsigned)b - 1));
		snprintf(buf, len, ">%s", lower);
	} else {
		format_us(buf, len, stats_bucket_upper_us((unsigned)b));
	}
}
