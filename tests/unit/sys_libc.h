/*
 * sys_libc.h: points the engine's system calls at libc itself.
 *
 * Unit tests link the engine without the shim, so libc's names are the
 * real functions.  Include this in exactly one file of each test binary;
 * a test that needs a fault swaps one pointer in `sys` and restores it.
 */
#ifndef SOCKPOOL_TEST_SYS_LIBC_H
#define SOCKPOOL_TEST_SYS_LIBC_H

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../../src/core/sys.h"

struct sys_calls sys = {
	.socket = socket, .bind = bind, .connect = connect, .openat = openat, .close = close,
	.shutdown = shutdown, .read = read, .write = write,
	.readv = readv, .writev = writev, .recv = recv, .send = send,
	.recvfrom = recvfrom, .sendto = sendto, .recvmsg = recvmsg,
	.sendmsg = sendmsg, .accept = accept, .accept4 = accept4, .dup = dup, .dup2 = dup2, .dup3 = dup3,
	.fcntl = fcntl, .setsockopt = setsockopt, .getsockopt = getsockopt,
	.epoll_ctl = epoll_ctl,
};

#endif
