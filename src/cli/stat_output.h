/*
 * stat_output.h: the three ways sockpool-stat writes a view: text for
 * people (stat_text.c), JSON for scripts (stat_json.c), the Prometheus
 * text exposition format for scrapers (stat_prom.c), and the figures
 * they share (stat_figures.c), and the end of every output
 * (stat_finish.c).
 */
#ifndef SOCKPOOL_CLI_STAT_OUTPUT_H
#define SOCKPOOL_CLI_STAT_OUTPUT_H

#include <stdio.h>

#include "stat_view.h"

/* One block per process, a row per destination, the host line first.
 * prev, the view before (NULL: none), gives the per-second rates. */
void text_print_view(FILE *out, const struct view *v, const struct view *prev,
		     const struct stat_options *opt);

/* The heading of a frame of the live view. */
void text_print_heading(FILE *out, const struct view *v, const struct stat_options *opt,
			bool keys);

/* The view as one JSON document on one line (schema: `--help`). */
void json_print_view(FILE *out, const struct view *v);

/* The view in the Prometheus text format (metrics: `--help`). */
void prom_print_view(FILE *out, const struct view *v);

/* Flushes stdout; 0, or 1 after saying on stderr that writing failed
 * (a full disk, a closed pipe): every mode ends its output with it. */
int output_finish(void);

/* Figures derived from counters, the same in every output. */

/* connect_retries plus every replay: the retries the program was spared. */
uint64_t figure_retries(const struct sp_stats_counters *c);

/* Reused connects per 100 connects, rounded down to a tenth (99.96 is
 * 99.9: "100 %" only when every connect was served from the pool); -1
 * with no connects. */
double figure_reuse_percent(const struct sp_stats_counters *c);

/* The q-quantile of histogram h as text ("512us", "1.05ms", ">2147s";
 * "-" when empty): the upper bound of its bucket (stats_reader.h). */
void figure_quantile(char *buf, size_t len, const uint64_t *h, double q);

#endif
