/*
 * hooks_socket.c: socket(), bind(), connect(), getsockopt(), accept(),
 * shutdown(), setsockopt().
 *
 * socket() and accept() hand out descriptor numbers, so they also clear
 * whatever the fd table still held for that number (and are made once more
 * when they fail for want of fds the pool can give back, see shim.h);
 * connect() is where a pooled connection may be handed back
 * (engine_connect).
 */
#include <sys/socket.h>

#include "../core/engine.h"
#include "../core/fdtab.h"
#include "../core/sys.h"
#include "shim.h"

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = engine_socket_speculate(domain, type, protocol);

	if (fd >= 0)
		return fd;
	fd = RETRY_IF_OUT_OF_FDS(sys.socket(domain, type, protocol));
	engine_socket_created(fd, domain, type, protocol);
	return fd;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (fdtab_get(fd) == NULL)
		return sys.connect(fd, addr, len);
	return engine_connect(fd, addr, len);
}

/* Only SO_ERROR of our sockets is looked at: it is where most event loops
 * learn that a non-blocking connect failed. */
SHIM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (fdtab_get(fd) == NULL)
		return sys.getsockopt(fd, level, name, val, len);
	engine_settle(fd);
	if (level != SOL_SOCKET || name != SO_ERROR)
		return sys.getsockopt(fd, level, name, val, len);
	return engine_socket_error(fd, val, len);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int new_fd = RETRY_IF_OUT_OF_FDS(sys.accept(fd, addr, len));

	engine_fd_reused(new_fd);
	return new_fd;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int new_fd = RETRY_IF_OUT_OF_FDS(sys.accept4(fd, addr, len, flags));

	engine_fd_reused(new_fd);
	return new_fd;
}

SHIM_EXPORT int shutdown(int fd, int how)
{
	engine_note_unfollowed(fd);	/* settles a speculative socket first */
	return sys.shutdown(fd, how);
}

SHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value,
			   socklen_t len)
{
	if (fdtab_get(fd) == NULL)
		return sys.setsockopt(fd, level, name, value, len);
	return engine_setsockopt(fd, level, name, value, len);
}

SHIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int rc;

	SETTLE(fd);
	rc = sys.bind(fd, addr, len);

	if (rc == 0 && fdtab_get(fd) != NULL)
		engine_socket_bound(fd);
	return rc;
}
