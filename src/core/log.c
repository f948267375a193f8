/*
 * log.c: leveled, single-write log lines "sockpool[pid]: level: text".
 * See log.h for the rules.
 *
 * A log file of our own (SOCKPOOL_LOG_FILE) sits on an fd the program
 * does not know about: it may close it (close_range, closefrom) and get
 * the number back for a file of its own.  So before each line the fd must
 * still hold the file we opened (device and inode); once it does not, the
 * log stops for good.  Reopening by name would take a low fd number under
 * the program's feet.  (A close and reopen by another thread between the
 * check and the write is not caught: that window is a few instructions.)
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys.h"

static enum log_level log_threshold = LOG_LEVEL_WARN;
static int log_fd = 2;	/* -1: the log file was lost, lines are dropped */
static bool log_fd_private;
static dev_t log_file_dev;
static ino_t log_file_ino;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_setup(enum log_level level, int fd)
{
	log_threshold = level;
	log_fd_private = false;
	__atomic_store_n(&log_fd, fd, __ATOMIC_RELAXED);
}

int log_setup_private(enum log_level level, int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	log_threshold = level;
	log_file_dev = st.st_dev;
	log_file_ino = st.st_ino;
	log_fd_private = true;
	__atomic_store_n(&log_fd, fd, __ATOMIC_RELAXED);
	return 0;
}

/* The fd to write a line to, or -1 (log_msg keeps errno). */
static int log_fd_for_line(void)
{
	int fd = __atomic_load_n(&log_fd, __ATOMIC_RELAXED);
	struct stat st;

	if (fd < 0 || !log_fd_private)
		return fd;
	if (fstat(fd, &st) == 0 && st.st_dev == log_file_dev && st.st_ino == log_file_ino)
		return fd;
	__atomic_store_n(&log_fd, -1, __ATOMIC_RELAXED);	/* not ours any more */
	return -1;
}

int log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[512];
	int saved_errno = errno;
	int n, fd;
	va_list ap;

	if (!log_enabled(level))
		return;
	n = snprintf(line, sizeof(line), "sockpool[%d]: %s: ", (int)getpid(),
		     level_names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (sys.write != NULL && (fd = log_fd_for_line()) >= 0)
		(void)sys.write(fd, line, (size_t)n);
	errno = saved_errno;
}
