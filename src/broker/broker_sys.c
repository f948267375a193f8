/*
 * broker_sys.c: the statistics writer (src/stats/) reaches the system
 * through `sys` (src/core/sys.h); in the broker, which no shim is loaded
 * into, those are libc's own functions.
 */
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/sys.h"

struct sys_calls sys = {
	.socket = socket, .bind = bind, .connect = connect, .openat = openat, .close = close,
	.shutdown = shutdown, .read = read, .write = write,
	.readv = readv, .writev = writev, .recv = recv, .send = send,
	.recvfrom = recvfrom, .sendto = sendto, .recvmsg = recvmsg,
	.sendmsg = sendmsg, .accept = accept, .accept4 = accept4, .dup = dup, .dup2 = dup2,
	.dup3 = dup3, .fcntl = fcntl, .setsockopt = setsockopt, .getsockopt = getsockopt,
	.epoll_ctl = epoll_ctl,
};
