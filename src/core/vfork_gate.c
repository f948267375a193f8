/*
 * vfork_gate.c: the pid half of engine_in_vfork_child() (see the header
 * for the protocol with the shim's vfork hook).
 */
#include "vfork_gate.h"

#include <sys/syscall.h>
#include <unistd.h>

int engine_vfork_children;
static long own_pid;

void vfork_gate_note_own_pid(void)
{
	__atomic_store_n(&own_pid, syscall(SYS_getpid), __ATOMIC_RELAXED);
	/* A fork child's copy of the count belongs to its parent's vforks. */
	__atomic_store_n(&engine_vfork_children, 0, __ATOMIC_RELAXED);
}

bool vfork_gate_pid_is_foreign(void)
{
	return syscall(SYS_getpid) != __atomic_load_n(&own_pid, __ATOMIC_RELAXED);
}
