/*
 * stat_gc.c: `sockpool-stat --gc`, removing the segments that processes
 * killed (or ended with _exit()) before they could remove their own have
 * left behind.  What counts as dead is decided in one place,
 * src/stats/stats_dead.c, which the writers use too; --gc also removes
 * the segments kept at exit on purpose (SOCKPOOL_STATS_KEEP), which the
 * writers leave alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../stats/stats_dead.h"
#include "stat_escape.h"
#include "stat_modes.h"
#include "stat_output.h"

/* Handles one listed segment; counts it in removed or kept.  0 or -1. */
static int gc_one(const char *path, pid_t pid, unsigned *removed, unsigned *kept)
{
	struct stats_snapshot *s = malloc(sizeof(*s));
	char program[SP_STATS_PROGRAM_MAX] = "?", why[256];
	int rc;

	if (s != NULL && stats_read_segment(path, s, why, sizeof(why)) == 0)
		memcpy(program, s->program, sizeof(program));
	free(s);
	rc = segment_remove_if_dead(path, pid, false, why, sizeof(why));
	if (rc == 1) {
		printf("removed %s (pid %d, ", path, (int)pid);
		escape_terminal(stdout, program);
		printf(", dead)\n");
		(*removed)++;
		return 0;
	}
	(*kept)++;
	if (rc < 0) {
		fprintf(stderr, ME ": cannot remove %s: %s\n", path, why);
		return -1;
	}
	return 0;
}

int run_gc(const struct stat_options *opt)
{
	char err[256], path[PATH_MAX];
	unsigned removed = 0, kept = 0;
	pid_t *pids, one = opt->pid;
	size_t n = 1;
	int rc = 0;

	if (opt->pid == 0) {
		if (stats_list_segments(opt->dir, &pids, &n, err, sizeof(err)) != 0) {
			fprintf(stderr, ME ": %s: %s\n", opt->dir, err);
			return 1;
		}
	} else {
		pids = &one;
	}
	for (size_t i = 0; i < n; i++) {
		if (stats_segment_path(path, sizeof(path), opt->dir, getuid(), pids[i]) != 0) {
			fprintf(stderr, ME ": directory name too long: %s\n", opt->dir);
			rc = 1;
			break;
		}
		if (opt->pid != 0 && access(path, F_OK) != 0)
			break;	/* -p: nothing of that pid to look at */
		if (gc_one(path, pids[i], &removed, &kept) != 0)
			rc = 1;
	}
	if (pids != &one)
		free(pids);
	printf("removed %u segment%s of dead processes, left %u\n", removed,
	       removed == 1 ? "" : "s", kept);
	return rc != 0 ? rc : output_finish();
}
