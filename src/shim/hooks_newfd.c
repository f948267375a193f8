/*
 * hooks_newfd.c: calls that hand the program a new descriptor number, and
 * calls that close many at once.
 *
 * The kernel gives a new fd the lowest free number, which may be one the
 * fd table still holds a conn for: glibc closes some descriptors without
 * calling close() (fclose of an fdopen'ed socket, internal closes), and the
 * program may close sockets with close_range() or closefrom().  A stale
 * entry would make sockpool follow (and, on failure, "recover") a file or
 * a pipe as if it were the old connection.  So every call that returns a
 * new fd clears whatever the table held for that number (one load when it
 * held nothing, as for any pass-through), and close_range/closefrom tell
 * the engine which numbers died, pooled private fds included.
 *
 * A call that makes an fd and fails for want of one (EMFILE, ENFILE) is
 * made once more when the pool could give idle sockets back: pooled
 * sockets must never cost the program a descriptor it could have had.
 *
 * Before our constructor has run, each call is made with syscall(2), for
 * the same reasons as in real.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../core/engine.h"
#include "../core/fdtab.h"
#include "../core/sys.h"
#include "shim.h"

static int raw_pipe2(int fds[2], int flags)
{
	return (int)syscall(SYS_pipe2, fds, flags);
}

static int raw_socketpair(int domain, int type, int protocol, int fds[2])
{
	return (int)syscall(SYS_socketpair, domain, type, protocol, fds);
}

static int raw_eventfd(unsigned int count, int flags)
{
	return (int)syscall(SYS_eventfd2, count, flags);
}

static int raw_epoll_create1(int flags)
{
	return (int)syscall(SYS_epoll_create1, flags);
}

static int raw_memfd_create(const char *name, unsigned int flags)
{
	return (int)syscall(SYS_memfd_create, name, flags);
}

static int raw_timerfd_create(int clock, int flags)
{
	return (int)syscall(SYS_timerfd_create, clock, flags);
}

static int raw_signalfd(int fd, const sigset_t *mask, int flags)
{
	return (int)syscall(SYS_signalfd4, fd, mask, (size_t)(_NSIG / 8), flags);
}

static int raw_inotify_init1(int flags)
{
	return (int)syscall(SYS_inotify_init1, flags);
}

static int raw_close_range(unsigned int first, unsigned int last, int flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

static struct {
	int (*pipe2)(int[2], int);
	int (*socketpair)(int, int, int, int[2]);
	int (*eventfd)(unsigned int, int);
	int (*epoll_create1)(int);
	int (*memfd_create)(const char *, unsigned int);
	int (*timerfd_create)(int, int);
	int (*signalfd)(int, const sigset_t *, int);
	int (*inotify_init1)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
} real = {
	.pipe2 = raw_pipe2, .socketpair = raw_socketpair, .eventfd = raw_eventfd,
	.epoll_create1 = raw_epoll_create1, .memfd_create = raw_memfd_create,
	.timerfd_create = raw_timerfd_create, .signalfd = raw_signalfd,
	.inotify_init1 = raw_inotify_init1, .close_range = raw_close_range,
};

void newfd_resolve_all(void)
{
	real_resolve((void **)&real.pipe2, "pipe2");
	real_resolve((void **)&real.socketpair, "socketpair");
	real_resolve((void **)&real.eventfd, "eventfd");
	real_resolve((void **)&real.epoll_create1, "epoll_create1");
	real_resolve((void **)&real.memfd_create, "memfd_create");
	real_resolve((void **)&real.timerfd_create, "timerfd_create");
	real_resolve((void **)&real.signalfd, "signalfd");
	real_resolve((void **)&real.inotify_init1, "inotify_init1");
	real_resolve((void **)&real.close_range, "close_range");
	real_resolve((void **)&real.closefrom, "closefrom");
}

/* fd is a new number for the program: nothing we knew about it holds. */
static int fresh_fd(int fd)
{
	if (fd >= 0 && fdtab_get(fd) != NULL)
		engine_fd_reused(fd);
	return fd;
}

static int fresh_pair(int rc, const int fds[2])
{
	if (rc == 0) {
		fresh_fd(fds[0]);
		fresh_fd(fds[1]);
	}
	return rc;
}

/* open's mode argument exists only with O_CREAT or O_TMPFILE. */
static mode_t mode_of(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return fresh_fd(RETRY_IF_OUT_OF_FDS(sys.openat(AT_FDCWD, path, flags, mode)));
}

SHIM_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return fresh_fd(RETRY_IF_OUT_OF_FDS(sys.openat(AT_FDCWD, path, flags | O_LARGEFILE,
							mode)));
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return fresh_fd(RETRY_IF_OUT_OF_FDS(sys.openat(dirfd, path, flags, mode)));
}

SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return fresh_fd(RETRY_IF_OUT_OF_FDS(sys.openat(dirfd, path, flags | O_LARGEFILE,
							mode)));
}

SHIM_EXPORT int creat(const char *path, mode_t mode)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(sys.openat(AT_FDCWD, path,
							O_CREAT | O_WRONLY | O_TRUNC, mode)));
}

SHIM_EXPORT int creat64(const char *path, mode_t mode)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(sys.openat(AT_FDCWD, path,
				    O_CREAT | O_WRONLY | O_TRUNC | O_LARGEFILE, mode)));
}

SHIM_EXPORT int pipe(int fds[2])
{
	return fresh_pair(RETRY_IF_OUT_OF_FDS(real.pipe2(fds, 0)), fds);
}

SHIM_EXPORT int pipe2(int fds[2], int flags)
{
	return fresh_pair(RETRY_IF_OUT_OF_FDS(real.pipe2(fds, flags)), fds);
}

SHIM_EXPORT int socketpair(int domain, int type, int protocol, int fds[2])
{
	return fresh_pair(RETRY_IF_OUT_OF_FDS(real.socketpair(domain, type, protocol, fds)), fds);
}

SHIM_EXPORT int eventfd(unsigned int count, int flags)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.eventfd(count, flags)));
}

SHIM_EXPORT int epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.epoll_create1(0)));
}

SHIM_EXPORT int epoll_create1(int flags)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.epoll_create1(flags)));
}

SHIM_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.memfd_create(name, flags)));
}

SHIM_EXPORT int timerfd_create(int clock, int flags)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.timerfd_create(clock, flags)));
}

SHIM_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.signalfd(fd, mask, flags)));
}

SHIM_EXPORT int inotify_init(void)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.inotify_init1(0)));
}

SHIM_EXPORT int inotify_init1(int flags)
{
	return fresh_fd(RETRY_IF_OUT_OF_FDS(real.inotify_init1(flags)));
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int rc = real.close_range(first, last, flags);

	/* CLOSE_RANGE_CLOEXEC only marks them; UNSHARE alone closes too. */
	if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		engine_fds_closed(first, last);
	return rc;
}

/* glibc's closefrom cannot fail (it falls back to /proc when the kernel
 * lacks close_range); before our constructor, close_range must do. */
SHIM_EXPORT void closefrom(int first)
{
	if (first < 0)
		first = 0;
	if (real.closefrom != NULL)
		real.closefrom(first);
	else if (real.close_range((unsigned int)first, ~0u, 0) != 0)
		return;
	engine_fds_closed((unsigned int)first, ~0u);
}
