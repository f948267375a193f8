/*
 * real.c: how the shim reaches the real libc functions.
 *
 * The rule: `sys` starts out filled with direct system calls (syscall(2)),
 * which need no symbol lookup, no allocation and no initialisation.  So a
 * hook is correct from the first instruction of the process, even when
 * another library's constructor calls it before ours, and even from inside
 * dlsym() or malloc().  Our constructor then replaces each entry with the
 * next definition in the lookup chain (dlsym RTLD_NEXT), so that libc's
 * cancellation points and any library preloaded after us are honoured.
 * Each pointer is replaced by one atomic store; a racing call sees either
 * the raw call or libc's, both correct.  A lookup that fails or that finds
 * our own hook (the shim loaded twice, or linked instead of preloaded)
 * leaves the raw call in place rather than recurse.
 *
 * The engine never calls a hooked name itself, only `sys`, so no hook is
 * ever re-entered by the shim and no re-entrancy guard is needed.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/sys.h"
#include "shim.h"

static int raw_socket(int domain, int type, int protocol)
{
	return (int)syscall(SYS_socket, domain, type, protocol);
}

static int raw_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return (int)syscall(SYS_bind, fd, addr, len);
}

static int raw_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return (int)syscall(SYS_connect, fd, addr, len);
}

static int raw_openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_arg(ap, mode_t);
	va_end(ap);
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static int raw_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static int raw_shutdown(int fd, int how)
{
	return (int)syscall(SYS_shutdown, fd, how);
}

static ssize_t raw_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

static ssize_t raw_write(int fd, const void *buf, size_t len)
{
	return syscall(SYS_write, fd, buf, len);
}

static ssize_t raw_readv(int fd, const struct iovec *iov, int iovcnt)
{
	return syscall(SYS_readv, fd, iov, iovcnt);
}

static ssize_t raw_writev(int fd, const struct iovec *iov, int iovcnt)
{
	return syscall(SYS_writev, fd, iov, iovcnt);
}

static ssize_t raw_recvfrom(int fd, void *buf, size_t len, int flags,
			    struct sockaddr *addr, socklen_t *addrlen)
{
	return syscall(SYS_recvfrom, fd, buf, len, flags, addr, addrlen);
}

static ssize_t raw_sendto(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *addr, socklen_t addrlen)
{
	return syscall(SYS_sendto, fd, buf, len, flags, addr, addrlen);
}

static ssize_t raw_recv(int fd, void *buf, size_t len, int flags)
{
	return raw_recvfrom(fd, buf, len, flags, NULL, NULL);
}

static ssize_t raw_send(int fd, const void *buf, size_t len, int flags)
{
	return raw_sendto(fd, buf, len, flags, NULL, 0);
}

static ssize_t raw_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return syscall(SYS_recvmsg, fd, msg, flags);
}

static ssize_t raw_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return syscall(SYS_sendmsg, fd, msg, flags);
}

static int raw_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return (int)syscall(SYS_accept4, fd, addr, len, flags);
}

static int raw_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return raw_accept4(fd, addr, len, 0);
}

static int raw_dup(int fd)
{
	return (int)syscall(SYS_dup, fd);
}

static int raw_dup3(int fd, int newfd, int flags)
{
	return (int)syscall(SYS_dup3, fd, newfd, flags);
}

static int raw_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static int raw_dup2(int fd, int newfd)
{
	/* dup3 refuses fd == newfd; dup2 then only checks that fd is open. */
	if (fd == newfd)
		return raw_fcntl(fd, F_GETFD) < 0 ? -1 : fd;
	return raw_dup3(fd, newfd, 0);
}

static int raw_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

static int raw_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return (int)syscall(SYS_getsockopt, fd, level, name, val, len);
}

static int raw_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	return (int)syscall(SYS_epoll_ctl, epfd, op, fd, event);
}

struct sys_calls sys = {
	.socket = raw_socket, .bind = raw_bind, .connect = raw_connect, .openat = raw_openat, .close = raw_close,
	.shutdown = raw_shutdown, .read = raw_read, .write = raw_write,
	.readv = raw_readv, .writev = raw_writev, .recv = raw_recv,
	.send = raw_send, .recvfrom = raw_recvfrom, .sendto = raw_sendto,
	.recvmsg = raw_recvmsg, .sendmsg = raw_sendmsg, .accept = raw_accept,
	.accept4 = raw_accept4, .dup = raw_dup, .dup2 = raw_dup2,
	.dup3 = raw_dup3, .fcntl = raw_fcntl, .setsockopt = raw_setsockopt,
	.getsockopt = raw_getsockopt, .epoll_ctl = raw_epoll_ctl,
};

/* The addresses this shared object spans (its loadable segments), found
 * once with dl_iterate_phdr: dladdr(), asked per name, searched every
 * symbol table for the nearest symbol and made up nearly all of the
 * shim's start-up (some 100,000 instructions a name). */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *self)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	bool mine = false;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;

		if (ph->p_type != PT_LOAD)
			continue;
		if (start < lo)
			lo = start;
		if (end > hi)
			hi = end;
		mine |= (uintptr_t)self >= start && (uintptr_t)self < end;
	}
	if (!mine)
		return 0;
	__atomic_store_n(&self_lo, lo, __ATOMIC_RELAXED);
	__atomic_store_n(&self_hi, hi, __ATOMIC_RELEASE);	/* lo is seen first */
	return 1;
}

/* Whether address p lies in this shared object. */
static int is_in_this_library(void *p)
{
	uintptr_t hi = __atomic_load_n(&self_hi, __ATOMIC_ACQUIRE);

	if (hi == 0) {
		dl_iterate_phdr(find_self, (void *)is_in_this_library);
		hi = __atomic_load_n(&self_hi, __ATOMIC_ACQUIRE);
	}
	if (hi != 0)
		return (uintptr_t)p >= __atomic_load_n(&self_lo, __ATOMIC_RELAXED) &&
		       (uintptr_t)p < hi;
	/* Not found (cannot happen): the slow way. */
	{
		Dl_info mine, found;

		return dladdr((void *)is_in_this_library, &mine) != 0 &&
		       dladdr(p, &found) != 0 && mine.dli_fbase == found.dli_fbase;
	}
}

void real_resolve(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p != NULL && !is_in_this_library(p))
		__atomic_store_n(slot, p, __ATOMIC_RELAXED);
}

void *real_lazy(void **slot, const char *name)
{
	if (__atomic_load_n(slot, __ATOMIC_RELAXED) == NULL)
		real_resolve(slot, name);
	return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

#define RESOLVE(name) real_resolve((void **)&sys.name, #name)

void real_resolve_all(void)
{
	RESOLVE(socket);
	RESOLVE(bind);
	RESOLVE(connect);
	RESOLVE(openat);
	RESOLVE(close);
	RESOLVE(shutdown);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(readv);
	RESOLVE(writev);
	RESOLVE(recv);
	RESOLVE(send);
	RESOLVE(recvfrom);
	RESOLVE(sendto);
	RESOLVE(recvmsg);
	RESOLVE(sendmsg);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(setsockopt);
	RESOLVE(getsockopt);
	RESOLVE(epoll_ctl);
}
