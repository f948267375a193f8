/*
 * hooks_io.c: the data path: read/write and their socket and vector
 * variants, including glibc's _FORTIFY_SOURCE entry points.
 *
 * Every one of these runs for files and pipes too, so each starts with the
 * pass-through test: one fd-table load, then the real call.  A call on a
 * socket we manage becomes an io_call for engine_io(), which makes it,
 * recovers it when its connection failed and that is safe, and shows the
 * bytes that moved to the conn (engine_io.c).
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../core/engine.h"
#include "../core/fdtab.h"
#include "../core/sys.h"
#include "shim.h"

/* glibc's fortified entry points, declared here as glibc does not. */
extern void __chk_fail(void) __attribute__((noreturn));
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen);

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	if (fdtab_get(fd) == NULL)
		return sys.read(fd, buf, len);
	return engine_io(&(struct io_call){ .kind = IO_READ, .fd = fd, .buf = buf, .len = len });
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return read(fd, buf, len);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (fdtab_get(fd) == NULL)
		return sys.write(fd, buf, len);
	return engine_io(&(struct io_call){ .kind = IO_WRITE, .fd = fd, .buf = (void *)buf,
					   .len = len });
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	if (fdtab_get(fd) == NULL)
		return sys.readv(fd, iov, iovcnt);
	return engine_io(&(struct io_call){ .kind = IO_READV, .fd = fd, .iov = iov,
					   .iovcnt = iovcnt });
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (fdtab_get(fd) == NULL)
		return sys.writev(fd, iov, iovcnt);
	return engine_io(&(struct io_call){ .kind = IO_WRITEV, .fd = fd, .iov = iov,
					   .iovcnt = iovcnt });
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (fdtab_get(fd) == NULL)
		return sys.recv(fd, buf, len, flags);
	return engine_io(&(struct io_call){ .kind = IO_RECV, .fd = fd, .buf = buf, .len = len,
					   .flags = flags });
}

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		__chk_fail();
	return recv(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			     struct sockaddr *addr, socklen_t *addrlen)
{
	if (fdtab_get(fd) == NULL)
		return sys.recvfrom(fd, buf, len, flags, addr, addrlen);
	return engine_io(&(struct io_call){ .kind = IO_RECVFROM, .fd = fd, .buf = buf,
					   .len = len, .flags = flags, .from = addr,
					   .fromlen = addrlen });
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
				   int flags, struct sockaddr *addr, socklen_t *addrlen)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, addr, addrlen);
}

/* recvmsg and sendmsg on a UNIX socket may pass descriptors (SCM_RIGHTS):
 * only then, the engine looks at them (engine_fds_passed). */
SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (fdtab_get(fd) == NULL) {
		ssize_t n = sys.recvmsg(fd, msg, flags);

		if (n >= 0 && msg->msg_controllen > 0)
			engine_fds_passed(msg, true);
		return n;
	}
	return engine_io(&(struct io_call){ .kind = IO_RECVMSG, .fd = fd, .msg = msg,
					   .flags = flags });
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (fdtab_get(fd) == NULL)
		return sys.send(fd, buf, len, flags);
	return engine_io(&(struct io_call){ .kind = IO_SEND, .fd = fd, .buf = (void *)buf,
					   .len = len, .flags = flags });
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t addrlen)
{
	if (fdtab_get(fd) == NULL)
		return sys.sendto(fd, buf, len, flags, addr, addrlen);
	return engine_io(&(struct io_call){ .kind = IO_SENDTO, .fd = fd, .buf = (void *)buf,
					   .len = len, .flags = flags, .to = addr,
					   .tolen = addrlen });
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (msg != NULL && msg->msg_controllen > 0)
		engine_settle_passed(msg);	/* the receiver gets a fresh socket */
	if (fdtab_get(fd) == NULL) {
		ssize_t n = sys.sendmsg(fd, msg, flags);

		if (n >= 0 && msg->msg_controllen > 0)
			engine_fds_passed(msg, false);
		return n;
	}
	return engine_io(&(struct io_call){ .kind = IO_SENDMSG, .fd = fd,
					   .msg = (struct msghdr *)msg, .flags = flags });
}
