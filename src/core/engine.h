/*
 * engine.h: the decisions the hooks delegate, one function per event.
 *
 * src/shim/ turns each interposed libc call into one of these calls (or
 * into a plain pass-through when the fd is not ours); everything that
 * decides anything lives here, reaching the system only through `sys`.
 * The engine is inactive until engine_start() has run and accepted the
 * configuration; inactive, every function below is a pass-through.
 */
#ifndef SOCKPOOL_CORE_ENGINE_H
#define SOCKPOOL_CORE_ENGINE_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"

/* Reads the configuration, sets up the fd table, pool and statistics.
 * program names the process in statistics.  Never fails the program: a
 * bad configuration is reported on stderr and leaves the engine off. */
void engine_start(config_getenv_fn getenv_fn, const char *program);

/* At exit: removes the statistics segment. */
void engine_stop(void);

bool engine_active(void);

/* socket() returned fd. */
void engine_socket_created(int fd, int domain, int type, int protocol);

/* The program's connect(): served from the pool when possible. */
int engine_connect(int fd, const struct sockaddr *addr, socklen_t len);

/* The program's getsockopt(fd, SOL_SOCKET, SO_ERROR) on a socket of ours:
 * a failed non-blocking connect is retried there when allowed (retry.h). */
int engine_socket_error(int fd, void *val, socklen_t *len);

/* The program's close(): parks a reusable connection, then closes fd. */
int engine_close(int fd);

/* A call handed the program a new descriptor number fd (dup, accept...):
 * whatever the table held for that number is stale. */
void engine_fd_reused(int fd);

/* Every fd from first to last (inclusive) was closed at once
 * (close_range, closefrom): program sockets and pooled ones. */
void engine_fds_closed(unsigned int first, unsigned int last);

/* Descriptors passed with SCM_RIGHTS in msg's control data: received
 * ones are new numbers (stale entries go); sent ones are now shared with
 * another process (never pooled). */
void engine_fds_passed(const struct msghdr *msg, bool received);

/* A rewritten exchange on fd (rewrite.c) may have ended: if its response
 * is complete, the connection goes to the pool and fd gets a socket that
 * reads end-of-file, as if the server had closed. */
struct conn_ref;
void engine_end_rewritten(int fd, struct conn_ref ref);

/* The program bound fd to a local address (the call succeeded). */
void engine_socket_bound(int fd);

/* fork() hooks, registered with pthread_atfork. */
void engine_before_fork(void);
void engine_after_fork_parent(void);
void engine_after_fork_child(void);

/* The process around the sockets (engine_process.c). */

/* The program changed its own RLIMIT_NOFILE (the call succeeded): the
 * pool follows the new limit, closing what no longer fits. */
void engine_fd_limit_changed(void);

/* A call of the program that makes an fd failed with EMFILE or ENFILE:
 * closes every idle pooled socket.  Whether any was closed (the call is
 * then worth one more try).  Keeps errno. */
bool engine_give_back_idle_fds(void);

/* A call of the program that the kernel allows only in a process of one
 * thread (unshare or setns of a user namespace) failed with EINVAL: ends
 * the thread sockpool runs (reaper.h), if any.  Whether there was one (the
 * call is then worth trying again).  Keeps errno. */
bool engine_stop_own_threads(void);

/* A child is about to be made that inherits every descriptor without
 * FD_CLOEXEC (posix_spawn, vfork): managed sockets among them are shared
 * with it from now on, never pooled.  Keeps errno. */
void engine_before_spawn(void);

/* The program made fd the source of a dup2 in a child to be spawned
 * (posix_spawn_file_actions_adddup2): the child will hold its socket. */
void engine_fd_given_to_child(int fd);

/* The configuration in force (for tests and the shim). */
const struct config *engine_config(void);

#endif
