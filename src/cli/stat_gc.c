/*
 * stat_gc.c: `sockpool-stat --gc`, removing the segments that processes
 * killed before they could remove their own have left behind.
 *
 * Only what is certainly dead goes: a regular file (not a link, not a
 * directory) owned by the user, in the directory, named for a pid that
 * has no process (nor has the pid its header names, when it can be read).
 * A segment that cannot be read but is named for a dead pid goes too: a
 * writer killed while creating its file leaves such a one.
 *
 * A pid may be reused between the check and the unlink, by a new process
 * that makes its segment under the same name (its writer replaces a
 * leftover with its pid).  To keep that window small the file is checked
 * again just before unlink(): same inode, pid still without a process.
 * Run it in the pid namespace of the processes: from another one, every
 * pid looks dead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stat_escape.h"
#include "stat_modes.h"

/* Whether path is a regular file of ours; *st gets what lstat() says. */
static bool own_regular_file(const char *path, struct stat *st, char *why, size_t whylen)
{
	if (lstat(path, st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st->st_mode) || st->st_uid != getuid()) {
		snprintf(why, whylen, "not a regular file of yours");
		return false;
	}
	return true;
}

int segment_remove_if_dead(const char *path, pid_t pid, char *why, size_t whylen)
{
	struct stats_snapshot *s = malloc(sizeof(*s));
	struct stat before, now;
	pid_t header_pid = pid;
	char err[256];

	if (s == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (stats_read_segment(path, s, err, sizeof(err)) == 0)
		header_pid = s->pid;
	free(s);
	if (!own_regular_file(path, &before, why, whylen))
		return 0;
	if (stats_pid_alive(pid) || stats_pid_alive(header_pid)) {
		snprintf(why, whylen, "process %d is alive",
			 (int)(stats_pid_alive(pid) ? pid : header_pid));
		return 0;
	}
	/* The last look, as close to unlink() as it can be. */
	if (!own_regular_file(path, &now, why, whylen) || now.st_ino != before.st_ino ||
	    now.st_dev != before.st_dev || stats_pid_alive(pid)) {
		snprintf(why, whylen, "changed while we looked");
		return 0;
	}
	if (unlink(path) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	return 1;
}

/* Handles one listed segment; counts it in removed or kept.  0 or -1. */
static int gc_one(const char *path, pid_t pid, unsigned *removed, unsigned *kept)
{
	struct stats_snapshot *s = malloc(sizeof(*s));
	char program[SP_STATS_PROGRAM_MAX] = "?", why[256];
	int rc;

	if (s != NULL && stats_read_segment(path, s, why, sizeof(why)) == 0)
		memcpy(program, s->program, sizeof(program));
	free(s);
	rc = segment_remove_if_dead(path, pid, why, sizeof(why));
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
	return rc != 0 ? rc : finish_output();
}
