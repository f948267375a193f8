/*
 * stat_modes.h: what sockpool-stat can be asked to do besides printing
 * one view: the live view (stat_live.c), removing the segments of dead
 * processes (stat_gc.c), and the one-line summary the launcher prints
 * for `sockpool --summary` (stat_summary.c).  Each returns the exit
 * status.
 *
 * Dependencies run one way: sockpool_stat.c (main) -> these modes -> the
 * view (stat_view.h) and its outputs (stat_output.h) -> the stats reader.
 * Nothing here calls back into main, and no mode calls another.
 */
#ifndef SOCKPOOL_CLI_STAT_MODES_H
#define SOCKPOOL_CLI_STAT_MODES_H

#include "stat_view.h"

int run_live(const struct stat_options *opt);
int run_gc(const struct stat_options *opt);
int run_summary(const struct stat_options *opt);

#endif
