/*
 * log.c: leveled, single-write log lines "sockpool[pid]: level: text".
 * See log.h for the rules.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "sys.h"

static enum log_level log_threshold = LOG_LEVEL_WARN;
static int log_fd = 2;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_setup(enum log_level level, int fd)
{
	log_threshold = level;
	log_fd = fd;
}

int log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[512];
	int saved_errno = errno;
	int n;
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
	if (sys.write != NULL)
		(void)sys.write(log_fd, line, (size_t)n);
	errno = saved_errno;
}
