/*
 * stat_modes.h: what sockpool-stat can be asked to do besides printing
 * one view: the live view (stat_live.c), removing the segments of dead
 * processes (stat_gc.c), and the one-line summary the launcher prints
 * for `sockpool --summary` (stat_summary.c).  Each returns the exit
 * status.
 */
#ifndef SOCKPOOL_CLI_STAT_MODES_H
#define SOCKPOOL_CLI_STAT_MODES_H

#include "stat_view.h"

int run_live(const struct stat_options *opt);
int run_gc(const struct stat_options *opt);
int run_summary(const struct stat_options *opt);

/* Says on stderr that opt->pid has no segment in opt->dir. */
void say_no_segment(const struct stat_options *opt);

/* Flushes stdout; 0, or 1 after saying on stderr that output failed. */
int finish_output(void);

#endif
