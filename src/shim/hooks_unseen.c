/*
 * hooks_unseen.c: calls that move a socket's bytes where no other hook
 * sees them.
 *
 * sendfile and splice copy inside the kernel; sendmmsg and recvmmsg move
 * several messages at once; stdio (fdopen) and dprintf read and write
 * through glibc's internal calls.  sockpool lets each of them through
 * unchanged, and tells the engine first what it will not see:
 *  - bytes the program sends out of sight make the exchange impossible to
 *    send again and the connection impossible to pool (a replay would send
 *    a request without them; engine_note_unseen_send);
 *  - bytes it may receive out of sight mean sockpool cannot find the end
 *    of a response: a request it rewrote to keep the connection steps
 *    back, and the server closes after the response as the program asked
 *    (engine_note_unfollowed).
 * Files and pipes pass straight through: one fd-table load.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/engine.h"
#include "shim.h"

static ssize_t raw_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return syscall(SYS_sendfile, out_fd, in_fd, offset, count);
}

static ssize_t raw_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
			  unsigned int flags)
{
	return syscall(SYS_splice, fd_in, off_in, fd_out, off_out, len, flags);
}

static int raw_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	return (int)syscall(SYS_sendmmsg, fd, vec, n, flags);
}

static int raw_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
			struct timespec *timeout)
{
	return (int)syscall(SYS_recvmmsg, fd, vec, n, flags, timeout);
}

/* fdopen and vdprintf have no system call of their own: before our
 * constructor they are looked up where they are first needed (both
 * allocate anyway, so the lookup's own allocation costs nothing new). */
static struct {
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*sendfile64)(int, int, off64_t *, size_t);
	ssize_t (*splice)(int, loff_t *, int, loff_t *, size_t, unsigned int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	FILE *(*fdopen)(int, const char *);
	int (*vdprintf)(int, const char *, va_list);
	int (*vdprintf_chk)(int, int, const char *, va_list);
} real = {
	.sendfile = raw_sendfile,
	.sendfile64 = (ssize_t (*)(int, int, off64_t *, size_t))raw_sendfile,
	.splice = raw_splice, .sendmmsg = raw_sendmmsg, .recvmmsg = raw_recvmmsg,
};

void unseen_resolve_all(void)
{
	real_resolve((void **)&real.sendfile, "sendfile");
	real_resolve((void **)&real.sendfile64, "sendfile64");
	real_resolve((void **)&real.splice, "splice");
	real_resolve((void **)&real.sendmmsg, "sendmmsg");
	real_resolve((void **)&real.recvmmsg, "recvmmsg");
	real_resolve((void **)&real.fdopen, "fdopen");
	real_resolve((void **)&real.vdprintf, "vdprintf");
	real_resolve((void **)&real.vdprintf_chk, "__vdprintf_chk");
}

SHIM_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	engine_note_unseen_send(out_fd);
	return real.sendfile(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
	engine_note_unseen_send(out_fd);
	return real.sendfile64(out_fd, in_fd, offset, count);
}

SHIM_EXPORT ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
			   unsigned int flags)
{
	engine_note_unfollowed(fd_in);
	engine_note_unseen_send(fd_out);
	return real.splice(fd_in, off_in, fd_out, off_out, len, flags);
}

SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	engine_note_unseen_send(fd);
	return real.sendmmsg(fd, vec, n, flags);
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
			 struct timespec *timeout)
{
	engine_note_unfollowed(fd);
	return real.recvmmsg(fd, vec, n, flags, timeout);
}

/* A stream reads (and, in any mode but "r", writes) through glibc's own
 * calls.  Its reads come first: a request sent in full steps back now. */
SHIM_EXPORT FILE *fdopen(int fd, const char *mode)
{
	if (real.fdopen == NULL)
		real_resolve((void **)&real.fdopen, "fdopen");
	if (real.fdopen == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	engine_note_unfollowed(fd);
	if (mode != NULL && strpbrk(mode, "wa+") != NULL)
		engine_note_unseen_send(fd);
	return real.fdopen(fd, mode);
}

SHIM_EXPORT int vdprintf(int fd, const char *format, va_list ap)
{
	if (real.vdprintf == NULL)
		real_resolve((void **)&real.vdprintf, "vdprintf");
	if (real.vdprintf == NULL) {
		errno = ENOSYS;
		return -1;
	}
	engine_note_unseen_send(fd);
	return real.vdprintf(fd, format, ap);
}

SHIM_EXPORT int dprintf(int fd, const char *format, ...)
{
	va_list ap;
	int rc;

	va_start(ap, format);
	rc = vdprintf(fd, format, ap);
	va_end(ap);
	return rc;
}

/* The same under _FORTIFY_SOURCE. */
int __vdprintf_chk(int fd, int flag, const char *format, va_list ap);
int __dprintf_chk(int fd, int flag, const char *format, ...);

SHIM_EXPORT int __vdprintf_chk(int fd, int flag, const char *format, va_list ap)
{
	if (real.vdprintf_chk == NULL)
		real_resolve((void **)&real.vdprintf_chk, "__vdprintf_chk");
	if (real.vdprintf_chk == NULL)
		return vdprintf(fd, format, ap);
	engine_note_unseen_send(fd);
	return real.vdprintf_chk(fd, flag, format, ap);
}

SHIM_EXPORT int __dprintf_chk(int fd, int flag, const char *format, ...)
{
	va_list ap;
	int rc;

	va_start(ap, format);
	rc = __vdprintf_chk(fd, flag, format, ap);
	va_end(ap);
	return rc;
}
