/*
 * stats_dead.c: when a statistics segment is dead, and removing dead ones
 * (see stats_dead.h).  Shared by `sockpool-stat --gc` and the writer in
 * the shim, so that both answer "is this segment dead?" the same way.
 *
 * Only what is certainly dead goes.  A pid says little on its own: it may
 * have been reused (then the segment looks alive and stays: harmless), and
 * seen from another pid namespace sharing the directory every pid looks
 * dead.  So a segment whose pids have no process must also be open for
 * writing nowhere: every live writer keeps it mapped shared and writable,
 * and the kernel refuses a read lease (F_SETLEASE) on a file that any
 * process has open for writing, whatever its namespace.  The lease is
 * taken and dropped at once; only an open for writing in that instant
 * could break it (writers never open an existing segment: they make a new
 * file).  Where leases are unavailable (a file system without them,
 * fs.leases-enable=0) the pids alone decide, as --gc always did.
 *
 * A pid may be reused between the checks and the unlink(), by a new
 * process that makes its segment under the same name (its writer replaces
 * a leftover with its pid).  To keep that window small the file is looked
 * at again just before unlink(): same inode, pid still without a process.
 *
 * Inside the shim the libc calls here go through its pass-through hooks:
 * none of these fds is a socket.
 */
#include "stats_dead.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stats_layout.h"
#include "stats_reader.h"

/* This file runs inside the shim too (the sweep of dead segments), where
 * open and close are the shim's own hooks: it makes the system calls
 * itself, as the reader and the shim may both link it. */
static int open_raw(const char *path, int flags)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0);
}

static void close_raw(int fd)
{
	(void)syscall(SYS_close, fd);
}

enum writer_verdict { WRITER_NONE, WRITER_PRESENT, WRITER_UNKNOWN };

bool segment_is_kept(mode_t mode)
{
	return (mode & S_IWUSR) == 0;
}

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

/* The pid the header of the segment open on fd names, or 0 when it has no
 * header of ours.  Any header pid only adds a process to check, so one
 * that a damaged file gets wrong can only keep the segment. */
static pid_t header_pid(int fd)
{
	struct sp_stats_header h;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != SP_STATS_MAGIC || h.version != SP_STATS_VERSION || h.pid <= 0)
		return 0;
	return (pid_t)h.pid;
}

/* Whether some process, in any pid namespace, has the file on fd (opened
 * read-only) open for writing or mapped writable. */
static enum writer_verdict segment_writer(int fd)
{
	if (syscall(SYS_fcntl, fd, F_SETLEASE, F_RDLCK) == 0) {
		(void)syscall(SYS_fcntl, fd, F_SETLEASE, F_UNLCK);
		return WRITER_NONE;
	}
	return errno == EAGAIN ? WRITER_PRESENT : WRITER_UNKNOWN;
}

int segment_remove_if_dead(const char *path, pid_t pid, bool leave_kept,
			   char *why, size_t whylen)
{
	struct stat before, opened, now;
	enum writer_verdict writer;
	pid_t named_in_header;
	int fd;

	if (!own_regular_file(path, &before, why, whylen))
		return 0;
	if (leave_kept && segment_is_kept(before.st_mode)) {
		snprintf(why, whylen, "kept at exit on purpose");
		return 0;
	}
	/* O_NONBLOCK: never wait on anything; a regular file ignores it. */
	fd = open_raw(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return 0;
	}
	if (fstat(fd, &opened) != 0 || opened.st_ino != before.st_ino ||
	    opened.st_dev != before.st_dev) {
		close_raw(fd);
		snprintf(why, whylen, "changed while we looked");
		return 0;
	}
	named_in_header = header_pid(fd);
	if (stats_pid_alive(pid) || stats_pid_alive(named_in_header)) {
		close_raw(fd);
		snprintf(why, whylen, "process %d is alive",
			 (int)(stats_pid_alive(pid) ? pid : named_in_header));
		return 0;
	}
	writer = segment_writer(fd);
	close_raw(fd);
	if (writer == WRITER_PRESENT) {
		snprintf(why, whylen, "a process (perhaps of another pid namespace) still writes it");
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

void segments_sweep_dead(const char *dir)
{
	int saved_errno = errno;
	char path[PATH_MAX], why[128];
	uid_t me = getuid();
	pid_t self = getpid();
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL) {
		errno = saved_errno;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		uid_t uid;
		pid_t pid;

		if (stats_parse_segment_name(de->d_name, &uid, &pid) != 0 || uid != me ||
		    pid == self || stats_segment_path(path, sizeof(path), dir, uid, pid) != 0)
			continue;
		(void)segment_remove_if_dead(path, pid, true, why, sizeof(why));
	}
	closedir(d);
	errno = saved_errno;
}
