/*
 * fd_identity.h: whether a descriptor number still holds the socket
 * sockpool knows it by.
 *
 * glibc closes descriptors where no hook sees it (fclose of an fdopen'ed
 * socket, internal closes) and the number may come back as another file;
 * the program may close a number while a retry pauses.  So a socket is
 * known by its device and inode, and every place that is about to act on
 * a number (move a socket under it, shut it down, hand out or close a
 * pooled one) asks this one question first.
 */
#ifndef SOCKPOOL_CORE_FD_IDENTITY_H
#define SOCKPOOL_CORE_FD_IDENTITY_H

#include <stdbool.h>
#include <sys/stat.h>

/* Whether fd holds a socket, and that socket is (dev, ino) when ino is
 * not 0 (0: any socket will do, its identity was never taken). */
static inline bool fd_holds_socket(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       (ino == 0 || (st.st_dev == dev && st.st_ino == ino));
}

#endif
