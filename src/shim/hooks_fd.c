/*
 * hooks_fd.c: close() and the calls that duplicate descriptors.
 *
 * close() is where a connection may go to the pool (engine_close).  A
 * duplicate of a managed socket means two fds share one connection, which
 * then can never be pooled; and the duplicate's number may have belonged
 * to a socket we tracked, whose entry is now stale.  In a vfork child
 * (vfork_gate.h) only the first holds: a duplicate it makes is of the
 * parent's socket, which its exec'd program may keep.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/engine.h"
#include "../core/fdtab.h"
#include "../core/sys.h"
#include "shim.h"

static int after_dup(int old_fd, int new_fd)
{
	if (new_fd < 0 || new_fd == old_fd)
		return new_fd;
	fdtab_private_touched(new_fd);	/* dup2/dup3 onto one of ours */
	engine_fd_reused(new_fd);
	engine_note_shared(old_fd);
	return new_fd;
}

SHIM_EXPORT int close(int fd)
{
	return engine_close(fd);
}

/* A copy of a speculative socket is a copy of a fresh one (speculate.h). */
SHIM_EXPORT int dup(int fd)
{
	SETTLE(fd);
	return after_dup(fd, RETRY_IF_OUT_OF_FDS(sys.dup(fd)));
}

SHIM_EXPORT int dup2(int fd, int new_fd)
{
	if (fd != new_fd)
		SETTLE(fd);
	return after_dup(fd, sys.dup2(fd, new_fd));
}

SHIM_EXPORT int dup3(int fd, int new_fd, int flags)
{
	SETTLE(fd);
	return after_dup(fd, sys.dup3(fd, new_fd, flags));
}

/* The fcntl calls a speculative socket answers as a fresh one would: the
 * descriptor flags are the fd's own, and a change of O_NONBLOCK alone is
 * followed (speculate.h).  The file status flags F_SETFL may also change
 * (O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME) and the rest need the
 * program's own socket. */
static bool fcntl_keeps_speculation(int cmd, void *arg)
{
	return cmd == F_GETFD || cmd == F_SETFD || cmd == F_GETFL ||
	       (cmd == F_SETFL &&
		((uintptr_t)arg & (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME)) == 0);
}

static int fcntl_common(int fd, int cmd, void *arg)
{
	int rc;

	if (!fcntl_keeps_speculation(cmd, arg))
		SETTLE(fd);
	else if ((cmd == F_GETFL || cmd == F_SETFL) && fdtab_get(fd) != NULL &&
		 engine_speculative_flags(fd, cmd, (uintptr_t)arg, &rc))
		return rc;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return after_dup(fd, RETRY_IF_OUT_OF_FDS(sys.fcntl(fd, cmd, arg)));
	rc = sys.fcntl(fd, cmd, arg);
	if ((cmd == F_SETFL || cmd == F_SETFD) && rc == 0 && fdtab_get(fd) != NULL)
		engine_note_fcntl(fd, cmd, (uintptr_t)arg);
	return rc;
}

/* glibc reads the optional argument as a pointer whatever cmd is; so do we. */
SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

/* Programs built with 64-bit file offsets call this name. */
SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

/* epoll registrations of a managed socket are followed, so that the
 * engine can take them off a socket it parks and put them on one it moves
 * under the fd (conn.h). */
SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	int rc;

	SETTLE(fd);	/* a fresh socket's events, not a connected one's */
	rc = sys.epoll_ctl(epfd, op, fd, event);

	if (rc == 0)
		engine_note_epoll(epfd, op, fd, event);
	return rc;
}

/* ioctl: only FIONBIO, FIOCLEX and FIONCLEX on a managed socket concern
 * sockpool (the flags a checkout must carry: engine_note_ioctl). */
static int raw_ioctl(int fd, unsigned long request, void *arg)
{
	return (int)syscall(SYS_ioctl, fd, request, arg);
}

static int (*next_ioctl)(int, unsigned long, ...);

void fd_resolve_all(void)
{
	real_resolve((void **)&next_ioctl, "ioctl");
}

SHIM_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	int (*real_ioctl)(int, unsigned long, ...) = __atomic_load_n(&next_ioctl, __ATOMIC_RELAXED);
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request != FIONBIO && request != FIOCLEX && request != FIONCLEX)
		SETTLE(fd);
	else if (request == FIONBIO && arg != NULL && fdtab_get(fd) != NULL &&
		 engine_speculative_flags(fd, F_SETFL, *(const int *)arg ? O_NONBLOCK : 0, &rc))
		return rc;
	rc = real_ioctl != NULL ? real_ioctl(fd, request, arg) : raw_ioctl(fd, request, arg);
	if (rc == 0 && fdtab_get(fd) != NULL &&
	    (request == FIONBIO || request == FIOCLEX || request == FIONCLEX))
		engine_note_ioctl(fd, request, arg);
	return rc;
}
