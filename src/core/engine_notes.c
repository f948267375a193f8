/*
 * engine_notes.c: what the hooks tell the engine about a managed fd
 * besides its data (see engine.h): it was duplicated or inherited, its
 * bytes went where no hook sees them, an option or an epoll registration
 * was set on it.  Each turns the fd into its conn and lets conn.c record
 * it; the vfork child's rule (vfork_gate.h: it may only make the parent
 * more careful) is applied here, in one place.
 */
#include "conn.h"
#include "engine.h"
#include "fdtab.h"
#include "vfork_gate.h"

void engine_note_shared(int fd)
{
	if (fdtab_get(fd) != NULL)
		conn_note_shared(conn_ref_of_fd(fd));
}

void engine_note_unfollowed(int fd)
{
	if (fdtab_get(fd) != NULL)
		conn_note_broken(conn_ref_of_fd(fd));
}

void engine_note_unseen_send(int fd)
{
	if (fdtab_get(fd) != NULL)
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

/* A vfork child that lets a socket of ours live past its exec holds the
 * socket from then on; in the process itself, the next fork or spawn is
 * where it matters (engine_before_spawn, the fork handlers). */
void engine_note_inheritable(int fd)
{
	if (fdtab_get(fd) != NULL && engine_in_vfork_child())
		conn_note_shared(conn_ref_of_fd(fd));
}
