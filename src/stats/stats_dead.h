/*
 * stats_dead.h: the one definition of a dead statistics segment, and the
 * sweep that removes such segments.  `sockpool-stat --gc` and the writer
 * (which sweeps its directory when it makes and when it removes its own
 * segment) both decide with segment_remove_if_dead(), so a process that
 * ended with _exit() or by a signal leaves nothing that accumulates.
 */
#ifndef SOCKPOOL_STATS_DEAD_H
#define SOCKPOOL_STATS_DEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Whether the segment at path (a regular file of ours) was left on
 * purpose at exit (SOCKPOOL_STATS_KEEP): its writer made it read-only. */
bool segment_is_kept(mode_t mode);

/*
 * Removes the segment at path, named for pid, if it is dead: a regular
 * file of ours (not a link, not a directory), no process of that pid nor
 * of the pid its header names, and no process holding it open for writing
 * (every live writer maps it writable).  With leave_kept, a segment kept
 * at exit on purpose is left too.  1: removed; 0: left, as it may be live
 * or kept (*why says so); -1: could not be removed (*why says why).
 */
int segment_remove_if_dead(const char *path, pid_t pid, bool leave_kept,
			   char *why, size_t whylen);

/* Removes the dead segments of the current user in dir, except those kept
 * on purpose and the one of this process.  Quiet: for the writer, which
 * has nobody to tell.  Keeps errno. */
void segments_sweep_dead(const char *dir);

#endif
