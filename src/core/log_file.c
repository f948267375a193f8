/*
 * log_file.c: SOCKPOOL_LOG_FILE opened without blocking and moved onto a
 * private high fd (see log_file.h).
 *
 * Why not block: open(O_WRONLY) of a FIFO waits for a reader, and this
 * runs in the constructor of every process.  With O_NONBLOCK such an open
 * fails at once (ENXIO); the engine then logs to stderr with one warning,
 * so the user still sees what went wrong, where warnings go anyway.
 */
#include "log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "sys.h"

int log_file_open(const char *path, int floor)
{
	int fd = sys.openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		      0600);
	int high;

	if (fd < 0 || fd >= floor)
		return fd;
	/* A low number is one the program will count on being free
	 * (daemons close everything and open their own files). */
	high = sys.fcntl(fd, F_DUPFD_CLOEXEC, floor);
	if (high < 0) {
		int saved = errno;

		sys.close(fd);
		errno = saved;
		return -1;
	}
	sys.close(fd);
	return high;
}
