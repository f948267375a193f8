/*
 * hooks_settle.c: calls sockpool hooks only to keep a speculative socket
 * unseen (speculate.h): getsockname, getpeername, listen, poll and select
 * on a socket socket() handed out from the pool, before its connect, get a
 * socket of the program's own first, so they answer as for a fresh one.
 * Otherwise they pass straight through: one fd-table load (per fd for
 * poll and select, and only while a speculative socket exists).
 */
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "../core/engine.h"
#include "shim.h"

/* glibc declares poll's array write-only (access attribute), though the
 * kernel reads it: GCC then takes the hook's read of it for one of
 * uninitialized memory. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

/* The _FORTIFY_SOURCE names, which glibc's headers do not declare. */
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
		const sigset_t *mask, size_t fdslen);

static struct {
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*listen)(int, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*poll_chk)(struct pollfd *, nfds_t, int, size_t);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*ppoll_chk)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *,
			 size_t);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
} real;

/* libc's, looked up at the first call (these are called rarely enough). */
#define REAL(field, name) ((__typeof__(real.field))real_lazy((void **)&real.field, name))

SHIM_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	SETTLE(fd);
	return REAL(getsockname, "getsockname")(fd, addr, len);
}

SHIM_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	SETTLE(fd);
	return REAL(getpeername, "getpeername")(fd, addr, len);
}

SHIM_EXPORT int listen(int fd, int backlog)
{
	SETTLE(fd);
	return REAL(listen, "listen")(fd, backlog);
}

SHIM_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	engine_settle_polled(fds, n);
	return REAL(poll, "poll")(fds, n, timeout);
}

SHIM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	engine_settle_polled(fds, n);
	return REAL(poll_chk, "__poll_chk")(fds, n, timeout, fdslen);
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
		      const sigset_t *mask)
{
	engine_settle_polled(fds, n);
	return REAL(ppoll, "ppoll")(fds, n, timeout, mask);
}

SHIM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
			    const sigset_t *mask, size_t fdslen)
{
	engine_settle_polled(fds, n);
	return REAL(ppoll_chk, "__ppoll_chk")(fds, n, timeout, mask, fdslen);
}

SHIM_EXPORT int select(int n, fd_set *read, fd_set *write, fd_set *except,
		       struct timeval *timeout)
{
	engine_settle_selected(n, read, write, except);
	return REAL(select, "select")(n, read, write, except, timeout);
}

SHIM_EXPORT int pselect(int n, fd_set *read, fd_set *write, fd_set *except,
			const struct timespec *timeout, const sigset_t *mask)
{
	engine_settle_selected(n, read, write, except);
	return REAL(pselect, "pselect")(n, read, write, except, timeout, mask);
}
