/*
 * stats_writer.h: the shim's side of the statistics segment.
 *
 * All functions are safe to call when the segment could not be created (or
 * statistics are off): they then do nothing.  Counting is lock-free.
 */
#ifndef SOCKPOOL_STATS_WRITER_H
#define SOCKPOOL_STATS_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/dest.h"
#include "stats_layout.h"

/* Creates this process's segment in dir (NULL: /dev/shm).  0 or -1. */
int stats_writer_open(const char *dir, const char *program);

/* At exit: removes the segment's file, or with keep (SOCKPOOL_STATS_KEEP,
 * for `sockpool --summary`) leaves it, read-only (stats_dead.h: not
 * litter); and stops counting into it. */
void stats_writer_close(bool keep);

/* Forgets the inherited mapping without touching the file: for a child
 * after fork, which must not write into its parent's segment. */
void stats_writer_forget(void);

/* The record for key, claimed on first use; NULL when the table is full
 * or statistics are off.  Takes a lock only when claiming a new record. */
struct sp_stats_dest *stats_writer_dest(const struct dest_key *key);

/* Adds delta (may be negative, for gauges) to counter c of record d (may
 * be NULL) and of the process-wide counters. */
void stats_count(struct sp_stats_dest *d, enum sp_counter c, int64_t delta);

/* Adds one observation of value_us microseconds to histogram h of record
 * d (may be NULL) and of the process. */
void stats_observe(struct sp_stats_dest *d, enum sp_hist h, uint64_t value_us);

/* The bucket value_us falls in (see stats_layout.h). */
unsigned stats_bucket_of(uint64_t value_us);

#endif
