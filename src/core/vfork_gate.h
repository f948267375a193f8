/*
 * vfork_gate.h: telling a vfork child from its parent, which share memory.
 *
 * A child made with vfork() (Python's subprocess, many shells and
 * spawners) runs in the parent's memory until it calls exec or _exit,
 * while the parent's thread waits.  Its hooks see the parent's fd table,
 * conns and pool, but its descriptors are its own copy: whatever the
 * engine did there on its behalf (forgetting fds that close_range closed,
 * parking a closed socket, moving a pooled one onto an fd) would corrupt
 * the parent's state.  So no engine entry point that changes state may act
 * in such a child: each asks engine_in_vfork_child() first and passes the
 * call through when it says yes.
 *
 * The protocol: the shim's vfork hook (src/shim/vfork.S) counts children
 * alive in engine_vfork_children, up before the system call and down in
 * the parent once it returns (by then the child has exec'd or exited).
 * Only while the count is not zero does the check ask the kernel for the
 * caller's pid (a raw getpid: glibc caches nothing) and compare it with the
 * engine's own, noted at start and in a fork child.  Outside a vfork window
 * the check is one load: no system call on any request's path.  Parent
 * threads that run during the window pay one getpid per engine call.
 *
 * glibc's posix_spawn makes its child with clone(CLONE_VM | CLONE_VFORK)
 * too, but that child calls only glibc-internal functions (never a hook),
 * so it needs no gate; what it inherits is handled before the spawn
 * (engine_before_spawn).  A clone(CLONE_VM) child a program makes itself
 * is not seen.
 */
#ifndef SOCKPOOL_CORE_VFORK_GATE_H
#define SOCKPOOL_CORE_VFORK_GATE_H

#include <stdbool.h>

/* vfork children alive (the shim's vfork hook changes it). */
extern int engine_vfork_children;

/* Notes the caller's pid as the engine's own (at start, in a fork child,
 * where it also knows that no vfork child of its own is alive). */
void vfork_gate_note_own_pid(void);

/* The slow half of the check: a raw getpid against the engine's pid. */
bool vfork_gate_pid_is_foreign(void);

static inline bool engine_in_vfork_child(void)
{
	return __atomic_load_n(&engine_vfork_children, __ATOMIC_RELAXED) != 0 &&
	       vfork_gate_pid_is_foreign();
}

#endif
