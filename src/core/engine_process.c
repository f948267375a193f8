/*
 * engine_process.c: what the process around the sockets does to them:
 * children that inherit them (posix_spawn, vfork), and the fd limit the
 * pool shares with the program (setrlimit, EMFILE).
 *
 * Children: glibc's posix_spawn and a vfork child followed by exec keep
 * every descriptor without FD_CLOEXEC, and the ones the program names in
 * posix_spawn_file_actions_adddup2.  A managed socket among them is held
 * by the child too, so it is marked shared (never pooled), as after
 * fork().  Pooled sockets are CLOEXEC and go nowhere.
 *
 * The fd limit: pooled sockets are the program's descriptors (fd_budget.h).
 * When the program changes RLIMIT_NOFILE the private fds move under the
 * new limit and the pool shrinks to its new share; when a call of the
 * program that makes an fd fails for want of one, the pool gives back
 * every idle socket and the shim makes the call once more.
 *
 * None of this acts in a vfork child (vfork_gate.h): its limit and its
 * descriptors are its own, the pool is its parent's.
 */
#include <errno.h>
#include <fcntl.h>

#include "conn.h"
#include "engine.h"
#include "engine_context.h"
#include "engine_process.h"
#include "fdtab.h"
#include "log.h"
#include "pool.h"
#include "reaper.h"
#include "sys.h"
#include "vfork_gate.h"

void engine_fd_limit_changed(void)
{
	int saved_errno = errno;
	unsigned max_idle;

	if (!engine_active() || engine_in_vfork_child())
		return;
	max_idle = engine_follow_fd_limit();
	pool_set_max_idle(engine_context()->pool, max_idle);
	log_debug("fd limit changed: the pool keeps at most %u idle sockets", max_idle);
	errno = saved_errno;
}

bool engine_give_back_idle_fds(void)
{
	int saved_errno = errno;
	unsigned closed;

	if (!engine_active() || engine_in_vfork_child())
		return false;
	closed = pool_close_all_idle(engine_context()->pool) + engine_drop_shadows();
	if (closed != 0)
		log_info("out of descriptors: closed %u idle pooled sockets", closed);
	errno = saved_errno;
	return closed != 0;
}

void engine_before_spawn(void)
{
	int saved_errno = errno;
	int high = engine_fd_high_water();

	if (!engine_active())
		return;
	/* The child gets a socket of the program's own, not a pooled one. */
	engine_settle_all(true);
	for (int fd = 0; fd <= high; fd++) {
		int flags;

		if (fdtab_get(fd) == NULL)
			continue;
		flags = sys.fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			conn_note_shared(conn_ref_of_fd(fd));
	}
	errno = saved_errno;
}

void engine_fd_given_to_child(int fd)
{
	if (engine_active() && fdtab_get(fd) != NULL) {
		engine_settle(fd);
		conn_note_shared(conn_ref_of_fd(fd));
	}
}

void engine_vfork_begins(void)
{
	__atomic_add_fetch(&engine_vfork_children, 1, __ATOMIC_RELAXED);
	engine_before_spawn();
}

void engine_vfork_ended(void)
{
	__atomic_sub_fetch(&engine_vfork_children, 1, __ATOMIC_RELAXED);
}

bool engine_stop_own_threads(void)
{
	if (!engine_active() || engine_in_vfork_child())
		return false;
	return reaper_stop();
}
