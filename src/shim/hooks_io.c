/*
 * hooks_io.c: the data path: read/write and their socket and vector
 * variants, including glibc's _FORTIFY_SOURCE entry points.
 *
 * Every one of these runs for files and pipes too, so each starts with the
 * pass-through test: one fd-table load, then the real call.  For a socket
 * we manage, the bytes that actually moved are shown to its conn after the
 * call; nothing is changed on the way.  Flags that make bytes invisible to
 * us (MSG_TRUNC, MSG_OOB) end pooling for that connection; MSG_PEEK is
 * just a look, and is not recorded.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../core/conn.h"
#include "../core/fdtab.h"
#include "../core/sys.h"
#include "shim.h"

/* glibc's fortified entry points, declared here as glibc does not. */
extern void __chk_fail(void) __attribute__((noreturn));
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen);

#define RECV_INVISIBLE (MSG_TRUNC | MSG_OOB)

static void note_received_with_flags(struct conn_ref ref, const void *buf,
				     ssize_t result, int flags)
{
	if (flags & RECV_INVISIBLE)
		conn_note_broken(ref);
	else if (!(flags & MSG_PEEK))
		conn_note_received(ref, buf, result);
}

static void note_sent_with_flags(struct conn_ref ref, const void *buf,
				 ssize_t result, int flags)
{
	if (flags & MSG_OOB)
		conn_note_broken(ref);
	else
		conn_note_sent(ref, buf, result);
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.read(fd, buf, len);
	ref = conn_ref_of_fd(fd);
	n = sys.read(fd, buf, len);
	conn_note_received(ref, buf, n);
	return n;
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return read(fd, buf, len);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.write(fd, buf, len);
	ref = conn_ref_of_fd(fd);
	n = sys.write(fd, buf, len);
	conn_note_sent(ref, buf, n);
	return n;
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.readv(fd, iov, iovcnt);
	ref = conn_ref_of_fd(fd);
	n = sys.readv(fd, iov, iovcnt);
	conn_note_received_iov(ref, iov, iovcnt, n);
	return n;
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.writev(fd, iov, iovcnt);
	ref = conn_ref_of_fd(fd);
	n = sys.writev(fd, iov, iovcnt);
	conn_note_sent_iov(ref, iov, iovcnt, n);
	return n;
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.recv(fd, buf, len, flags);
	ref = conn_ref_of_fd(fd);
	n = sys.recv(fd, buf, len, flags);
	note_received_with_flags(ref, buf, n, flags);
	return n;
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
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.recvfrom(fd, buf, len, flags, addr, addrlen);
	ref = conn_ref_of_fd(fd);
	n = sys.recvfrom(fd, buf, len, flags, addr, addrlen);
	note_received_with_flags(ref, buf, n, flags);
	return n;
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
				   int flags, struct sockaddr *addr, socklen_t *addrlen)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, addr, addrlen);
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.recvmsg(fd, msg, flags);
	ref = conn_ref_of_fd(fd);
	n = sys.recvmsg(fd, msg, flags);
	if (flags & RECV_INVISIBLE)
		conn_note_broken(ref);
	else if (!(flags & MSG_PEEK))
		conn_note_received_iov(ref, msg->msg_iov, (int)msg->msg_iovlen, n);
	return n;
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.send(fd, buf, len, flags);
	ref = conn_ref_of_fd(fd);
	n = sys.send(fd, buf, len, flags);
	note_sent_with_flags(ref, buf, n, flags);
	return n;
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t addrlen)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.sendto(fd, buf, len, flags, addr, addrlen);
	ref = conn_ref_of_fd(fd);
	n = sys.sendto(fd, buf, len, flags, addr, addrlen);
	note_sent_with_flags(ref, buf, n, flags);
	return n;
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct conn_ref ref;
	ssize_t n;

	if (fdtab_get(fd) == NULL)
		return sys.sendmsg(fd, msg, flags);
	ref = conn_ref_of_fd(fd);
	n = sys.sendmsg(fd, msg, flags);
	if (flags & MSG_OOB)
		conn_note_broken(ref);
	else
		conn_note_sent_iov(ref, msg->msg_iov, (int)msg->msg_iovlen, n);
	return n;
}
