/*
 * engine_notes.c: what the hooks tell the engine about a managed fd
 * besides its data (see engine.h): it was duplicated or inherited, its
 * bytes went where no hook sees them, an option or an epoll registration
 * was set on it.  Each turns the fd into its conn and lets conn.c record
 * it; the vfork child's rule (vfork_gate.h: it may only make the parent
 * more careful) is applied here, in one place.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include "conn.h"
#include "engine.h"
#include "fdtab.h"
#include "vfork_gate.h"

void engine_note_shared(int fd)
{
	if (fdtab_get(fd) != NULL)
		conn_note_shared(conn_ref_of_fd(fd));
}

/* Both are told before the call they are about: a speculative socket
 * gets the program's own first (speculate.h). */
void engine_note_unfollowed(int fd)
{
	if (fdtab_get(fd) == NULL)
		return;
	engine_settle(fd);
	conn_note_broken(conn_ref_of_fd(fd));
}

void engine_note_unseen_send(int fd)
{
	if (fdtab_get(fd) == NULL)
		return;
	engine_settle(fd);
	conn_note_unseen_send(conn_ref_of_fd(fd));
}

void engine_note_option_set(int fd, int level, int name, const void *value, socklen_t len)
{
	if (fdtab_get(fd) != NULL)
		conn_note_option_set(conn_ref_of_fd(fd), level, name, value, len);
}

/* A vfork child's epoll sets and fd numbers are not the parent's. */
void engine_note_epoll(int epfd, int op, int fd, const struct epoll_event *event)
{
	if (fdtab_get(fd) != NULL && !engine_in_vfork_child())
		conn_note_epoll(conn_ref_of_fd(fd), epfd, op, event);
}

/* The new flags of fd.  A vfork child shares the parent's open file
 * descriptions but not its descriptors: its O_NONBLOCK is the parent's
 * too (no longer known for sure), its FD_CLOEXEC its own; and a child that
 * lets a socket of ours live past its exec holds the socket from then on.
 * In the process itself, inheritance matters at the next fork or spawn
 * (engine_before_spawn, the fork handlers). */
static void note_flags(int fd, int nonblock, int cloexec)
{
	struct conn_ref ref;

	if (fdtab_get(fd) == NULL)
		return;
	ref = conn_ref_of_fd(fd);
	if (engine_in_vfork_child()) {
		if (nonblock != CONN_FLAG_KEPT)
			conn_note_fd_flags(ref, -1, CONN_FLAG_KEPT);
		if (cloexec == 0)
			conn_note_shared(ref);
		return;
	}
	conn_note_fd_flags(ref, nonblock, cloexec);
}

void engine_note_fcntl(int fd, int cmd, uintptr_t arg)
{
	if (cmd == F_SETFL)
		note_flags(fd, (arg & O_NONBLOCK) != 0, CONN_FLAG_KEPT);
	else if (cmd == F_SETFD)
		note_flags(fd, CONN_FLAG_KEPT, (arg & FD_CLOEXEC) != 0);
}

void engine_note_ioctl(int fd, unsigned long request, const void *arg)
{
	int on;

	if (request == FIONBIO && arg != NULL) {
		memcpy(&on, arg, sizeof(on));
		note_flags(fd, on != 0, CONN_FLAG_KEPT);
	} else if (request == FIOCLEX) {
		note_flags(fd, CONN_FLAG_KEPT, 1);
	} else if (request == FIONCLEX) {
		note_flags(fd, CONN_FLAG_KEPT, 0);
	}
}
