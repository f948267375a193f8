/*
 * hooks_process.c: calls that make child processes or change the fd
 * limit: vfork (its entry and exit, around vfork.S), posix_spawn,
 * posix_spawnp, posix_spawn_file_actions_adddup2, setrlimit, prlimit.
 *
 * Children: the engine marks what they inherit (engine_before_spawn) and
 * knows while a vfork child runs in our memory (vfork_gate.h).  glibc's
 * posix_spawn child calls no hook (it uses glibc-internal functions
 * only), so posix_spawn needs no count of its own.
 *
 * The fd limit: when the program changes RLIMIT_NOFILE of this process,
 * the engine follows it (engine_fd_limit_changed).
 *
 * Before our constructor, the rlimit calls are made with syscall(2) (as in
 * real.c); the spawn calls, which have no system call of their own, look
 * up libc's on first use.
 */
#include <errno.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../core/engine.h"
#include "shim.h"

typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
		     const posix_spawnattr_t *, char *const[], char *const[]);

/* A sanitizer's runtime sets limits of its own while it starts, before it
 * can run instrumented code: these hooks are kept free of it (the engine
 * is reached only for RLIMIT_NOFILE, which no runtime sets). */
#define UNINSTRUMENTED __attribute__((no_sanitize("address", "thread", "undefined")))

/* On the 64-bit systems sockpool is built for, struct rlimit and struct
 * rlimit64 are the same, and prlimit64 is the kernel's prlimit. */
UNINSTRUMENTED static int raw_setrlimit(__rlimit_resource_t resource, const struct rlimit *limit)
{
	return (int)syscall(SYS_setrlimit, resource, limit);
}

UNINSTRUMENTED static int raw_setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *limit)
{
	return (int)syscall(SYS_prlimit64, 0, resource, limit, NULL);
}

UNINSTRUMENTED static int raw_prlimit(pid_t pid, __rlimit_resource_t resource,
		       const struct rlimit *new_limit, struct rlimit *old_limit)
{
	return (int)syscall(SYS_prlimit64, pid, resource, new_limit, old_limit);
}

UNINSTRUMENTED static int raw_prlimit64(pid_t pid, __rlimit_resource_t resource,
			 const struct rlimit64 *new_limit, struct rlimit64 *old_limit)
{
	return (int)syscall(SYS_prlimit64, pid, resource, new_limit, old_limit);
}

/* Replaced by libc's own functions in our constructor. */
static struct {
	spawn_fn *posix_spawn;
	spawn_fn *posix_spawnp;
	int (*adddup2)(posix_spawn_file_actions_t *, int, int);
	int (*setrlimit)(__rlimit_resource_t, const struct rlimit *);
	int (*setrlimit64)(__rlimit_resource_t, const struct rlimit64 *);
	int (*prlimit)(pid_t, __rlimit_resource_t, const struct rlimit *, struct rlimit *);
	int (*prlimit64)(pid_t, __rlimit_resource_t, const struct rlimit64 *,
			 struct rlimit64 *);
	int (*unshare)(int);
	int (*setns)(int, int);
} real = {
	.setrlimit = raw_setrlimit, .setrlimit64 = raw_setrlimit64,
	.prlimit = raw_prlimit, .prlimit64 = raw_prlimit64,
};

void process_resolve_all(void)
{
	real_resolve((void **)&real.posix_spawn, "posix_spawn");
	real_resolve((void **)&real.posix_spawnp, "posix_spawnp");
	real_resolve((void **)&real.adddup2, "posix_spawn_file_actions_adddup2");
	real_resolve((void **)&real.setrlimit, "setrlimit");
	real_resolve((void **)&real.setrlimit64, "setrlimit64");
	real_resolve((void **)&real.prlimit, "prlimit");
	real_resolve((void **)&real.prlimit64, "prlimit64");
	real_resolve((void **)&real.unshare, "unshare");
	real_resolve((void **)&real.setns, "setns");
}

/* A spawn call made before our constructor: libc's, looked up now. */
#define REAL(field, name) real_lazy((void **)&real.field, name)

/* ---- vfork: called from vfork.S only ---- */

void vfork_gate_enter(void)
{
	engine_vfork_begins();
}

int vfork_gate_leave(long result)
{
	engine_vfork_ended();
	if (result < 0) {
		errno = (int)-result;
		return -1;
	}
	return (int)result;
}

/* ---- posix_spawn ---- */

static int spawn_with(spawn_fn *spawn, pid_t *pid, const char *path,
		      const posix_spawn_file_actions_t *actions,
		      const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (spawn == NULL)
		return ENOSYS;
	engine_before_spawn();
	return spawn(pid, path, actions, attr, argv, envp);
}

SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path,
			    const posix_spawn_file_actions_t *actions,
			    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_with(REAL(posix_spawn, "posix_spawn"), pid, path, actions, attr, argv, envp);
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			     const posix_spawn_file_actions_t *actions,
			     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_with(REAL(posix_spawnp, "posix_spawnp"), pid, file, actions, attr, argv,
			  envp);
}

/* The child will hold fd's socket under new_fd, whatever the program
 * does with fd meanwhile. */
SHIM_EXPORT int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *actions,
						 int fd, int new_fd)
{
	int (*adddup2)(posix_spawn_file_actions_t *, int, int) =
		REAL(adddup2, "posix_spawn_file_actions_adddup2");

	if (adddup2 == NULL)
		return ENOSYS;
	engine_fd_given_to_child(fd);
	return adddup2(actions, fd, new_fd);
}

/* ---- the fd limit ---- */

UNINSTRUMENTED static int after_limit_call(int rc, int resource, bool sets, pid_t pid)
{
	if (rc == 0 && resource == RLIMIT_NOFILE && sets &&
	    (pid == 0 || pid == (pid_t)syscall(SYS_getpid)))
		engine_fd_limit_changed();
	return rc;
}

UNINSTRUMENTED
SHIM_EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *limit)
{
	return after_limit_call(real.setrlimit(resource, limit), (int)resource, true, 0);
}

UNINSTRUMENTED
SHIM_EXPORT int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *limit)
{
	return after_limit_call(real.setrlimit64(resource, limit), (int)resource, true, 0);
}

UNINSTRUMENTED
SHIM_EXPORT int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *new_limit,
			struct rlimit *old_limit)
{
	return after_limit_call(real.prlimit(pid, resource, new_limit, old_limit),
				(int)resource, new_limit != NULL, pid);
}

UNINSTRUMENTED
SHIM_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t resource,
			  const struct rlimit64 *new_limit, struct rlimit64 *old_limit)
{
	return after_limit_call(real.prlimit64(pid, resource, new_limit, old_limit),
				(int)resource, new_limit != NULL, pid);
}

/* ---- namespaces ---- */

/* unshare(CLONE_NEWUSER) and setns() into a user namespace need a process
 * of one thread; the kernel says EINVAL otherwise.  sockpool's own thread
 * (the idle reaper) must not be what makes them fail: it is ended and the
 * call made again (the thread may take a moment to be gone for good). */
#define SINGLE_THREADED_RETRY_MS 200

static int again_without_our_thread(int saved_errno, int rc, int (*call)(int, int), int a,
				    int b)
{
	if (rc == 0 || errno != EINVAL || !engine_stop_own_threads())
		return rc;
	for (int waited = 0; waited < SINGLE_THREADED_RETRY_MS; waited++) {
		struct timespec ms = { 0, 1000000L };

		rc = call(a, b);
		if (rc == 0) {
			errno = saved_errno;	/* as the first call would have */
			break;
		}
		if (errno != EINVAL)
			break;
		nanosleep(&ms, NULL);
	}
	return rc;
}

static int unshare_real(int flags, int unused)
{
	(void)unused;
	return real.unshare != NULL ? real.unshare(flags)
				    : (int)syscall(SYS_unshare, flags);
}

static int setns_real(int fd, int nstype)
{
	return real.setns != NULL ? real.setns(fd, nstype) : (int)syscall(SYS_setns, fd, nstype);
}

SHIM_EXPORT int unshare(int flags)
{
	int saved_errno = errno;

	return again_without_our_thread(saved_errno, unshare_real(flags, 0), unshare_real, flags, 0);
}

SHIM_EXPORT int setns(int fd, int nstype)
{
	int saved_errno = errno;

	return again_without_our_thread(saved_errno, setns_real(fd, nstype), setns_real, fd, nstype);
}
