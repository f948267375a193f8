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

/* Removes the segment at path, named for pid, if it is a regular file of
 * ours and no process of that pid (nor of the pid its header names)
 * exists.  1: removed; 0: left, as it may be live (*why says so); -1:
 * could not be removed (*why says why). */
int segment_remove_if_dead(const char *path, pid_t pid, char *why, size_t whylen);

/* Flushes stdout; 0, or 1 after saying on stderr that output failed. */
int finish_output(void);

#endif
