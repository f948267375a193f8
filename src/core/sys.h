/*
 * sys.h: the real libc calls the engine uses, as function pointers.
 *
 * Nothing in src/core/ or src/stats/ calls a socket or I/O function by name:
 * inside the preloaded shim those names are our own hooks, so a direct call
 * would recurse.  The shim fills `sys` with the next definitions in the
 * lookup chain (src/shim/real.c); the unit tests fill it with libc's own
 * functions, or with fakes, and drive the engine with no LD_PRELOAD at all.
 */
#ifndef SOCKPOOL_CORE_SYS_H
#define SOCKPOOL_CORE_SYS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct epoll_event;

struct sys_calls {
	int (*socket)(int domain, int type, int protocol);
	int (*bind)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*openat)(int dirfd, const char *path, int flags, ...);
	int (*close)(int fd);
	int (*shutdown)(int fd, int how);
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	ssize_t (*readv)(int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*writev)(int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recvfrom)(int fd, void *buf, size_t len, int flags,
			    struct sockaddr *addr, socklen_t *addrlen);
	ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *addr, socklen_t addrlen);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
	int (*accept)(int fd, struct sockaddr *addr, socklen_t *len);
	int (*accept4)(int fd, struct sockaddr *addr, socklen_t *len, int flags);
	int (*dup)(int fd);
	int (*dup2)(int fd, int newfd);
	int (*dup3)(int fd, int newfd, int flags);
	int (*fcntl)(int fd, int cmd, ...);
	int (*setsockopt)(int fd, int level, int name, const void *val,
			  socklen_t len);
	int (*getsockopt)(int fd, int level, int name, void *val,
			  socklen_t *len);
	int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *event);
};

extern struct sys_calls sys;

#endif
