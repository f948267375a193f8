/*
 * engine.h: the one door from the hooks into the engine.
 *
 * src/shim/ turns each interposed libc call into one of these calls (or
 * into a plain pass-through when the fd is not ours: one fdtab_get load);
 * everything that decides anything lives behind them, reaching the
 * system only through `sys`.  The engine is inactive until engine_start()
 * has run and accepted the configuration; inactive, every function below
 * is a pass-through.
 *
 * Layers, each using only those below it:
 *   engine.c (lifecycle: socket, connect, close, fork), engine_io.c (the
 *   data path), engine_notes.c, engine_process.c
 *     -> rewrite.c (Connection: close), retry.c (recovery), park.c
 *        (parking), all given the engine_context of engine_context.h
 *     -> conn.c / conn_options.c, pool.c, http1*.c, response_close.c
 *     -> stats (src/stats), sys, fdtab
 *
 * ---- Threads, signals, fork ----
 *
 * Locks, in the only order they are ever nested:
 *   conn->lock  ->  pool.lock  ->  claim_lock (stats_writer.c)
 *  - conn->lock guards one conn.  Every conn_note_* takes it for a few
 *    instructions; recovery holds it across its pauses and connects (up to
 *    SOCKPOOL_RETRY_DEADLINE_MS, or the program's own socket timeout), so
 *    another thread using the same fd waits until the connection under
 *    it is settled.  Nothing else blocks under it.
 *  - pool.lock guards the idle table.  Under it the pool closes and
 *    fstats its private fds, and finding a destination's record may scan
 *    the statistics table and take claim_lock.  The pool never takes a
 *    conn lock.  The reaper (reaper.h) takes it only to close what expired.
 *  - broker_lock (broker_client.h) is a leaf taken under pool.lock (the
 *    pool gives away what it has no room for) or alone (a take, which
 *    waits at most BROKER_CLIENT_ANSWER_MS under it).
 *  - claim_lock (a statistics record being claimed), free_list_lock
 *    (conn.c, recycling conns) and stats_open_lock (engine.c, making the
 *    segment once) are leaves: nothing is taken under them.
 *
 * Read without a lock, on purpose: the fd table's slots (atomic loads:
 * the pass-through test), a conn's generation (acquire; conn_ref_lock
 * checks it again under the lock), conn->rewritten (a relaxed flag looked
 * at on every receive; acted on only under the lock), conn->state in
 * engine_connect (the fd's own connect: two threads connecting one fd is
 * the program's race), statistics counters (relaxed atomics), the vfork
 * count and the private fd floor (relaxed).
 *
 * Signals.  The pass-through path is async-signal-safe (a load and the
 * real call).  A close() from a signal handler may interrupt a thread
 * that holds the conn's lock inside a hook: engine_close tries the lock a
 * bounded number of times (lock_for_close) and then closes the fd for
 * real, not pooled, leaving the conn to no one (one conn struct leaked in
 * that rare case, instead of a deadlock).  sockpool raises no signal but
 * SIGPIPE, exactly where the real call would have; its reaper thread
 * blocks every signal.
 *
 * Speculative sockets (speculate.h) are settled under their conn's lock,
 * which then takes pool.lock to give the pooled socket back: the same
 * order.  fork, vfork and posix_spawn settle every one first (a child
 * must never hold a pooled socket its parent's program thinks fresh);
 * one another thread makes in the moment before fork takes pool.lock is
 * settled after it, in parent and child alike, and not given back.
 *
 * fork().  pthread_atfork: before, pool.lock is taken (the child's copy of
 * the table is whole); in the parent after, it is released and every open
 * managed conn is marked shared (the child holds a copy; a rewritten
 * exchange steps back); in the child, every lock is made anew (another
 * thread may have held one), the parent's statistics segment and reaper
 * are let go, the idle table is forgotten (its fds are the parent's too),
 * and inherited conns are marked shared.
 *
 * vfork() and posix_spawn().  A vfork child runs in the parent's memory
 * (vfork_gate.h): every entry point passes through there, except that a
 * dup of a managed fd or clearing its FD_CLOEXEC marks the conn shared,
 * and I/O on one marks it broken: a child may only make the parent more
 * careful.  Before a posix_spawn, managed sockets the child will inherit
 * are marked shared (engine_before_spawn).
 */
#ifndef SOCKPOOL_CORE_ENGINE_H
#define SOCKPOOL_CORE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "config.h"
#include "engine_context.h"
#include "io_call.h"

/* Reads the configuration, sets up the fd table, pool and statistics.
 * program names the process in statistics.  Never fails the program: a
 * bad configuration is reported on stderr and leaves the engine off. */
void engine_start(config_getenv_fn getenv_fn, const char *program);

/* At exit: removes the statistics segment. */
void engine_stop(void);

bool engine_active(void);

/* socket() returned fd. */
void engine_socket_created(int fd, int domain, int type, int protocol);

/* The program's socket(domain, type, protocol), made speculatively: a
 * pooled socket's new fd (speculate.h), or -1 when the call is to be made
 * for real (then engine_socket_created follows).  Keeps errno. */
int engine_socket_speculate(int domain, int type, int protocol);

/* Before a call on fd that only a socket of the program's own answers
 * right: a speculative socket under fd is replaced by one (speculate.h).
 * The _all form settles every one (before fork, vfork, posix_spawn;
 * give_back false after a fork: the child may hold the pooled socket);
 * the others those in a poll set, select sets, or an SCM_RIGHTS message
 * about to be sent.  Each keeps errno. */
void engine_settle(int fd);
void engine_settle_all(bool give_back);
struct pollfd;
void engine_settle_polled(const struct pollfd *fds, unsigned long n);
void engine_settle_selected(int n, const fd_set *read, const fd_set *write,
			    const fd_set *except);
void engine_settle_passed(const struct msghdr *msg);

/* The program's fcntl(fd, F_GETFL) or fcntl(fd, F_SETFL, arg) (arg with
 * no file status flag but O_NONBLOCK; ioctl FIONBIO is the same) on a
 * speculative socket: answered from what the program set, the socket's
 * own flag being made the same only at connect.  false: not such a
 * socket, the call is to be made.  Keeps errno. */
bool engine_speculative_flags(int fd, int cmd, uintptr_t arg, int *result);

/* The program's setsockopt() on a socket of ours. */
int engine_setsockopt(int fd, int level, int name, const void *value, socklen_t len);

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

/* A data call on a managed fd (engine_io.c): made, recovered if it fails
 * where that is safe, recorded, and returned as the program must see it. */
ssize_t engine_io(struct io_call *call);

/* What the hooks tell the engine about a managed fd (engine_notes.c).  Each
 * keeps errno and does nothing for an fd that is not ours. */

/* Another descriptor (a dup, a child's) now holds fd's socket. */
void engine_note_shared(int fd);
/* fd's bytes move where no hook sees them (splice, recvmmsg, stdio
 * reads, a shutdown the program made). */
void engine_note_unfollowed(int fd);
/* Bytes go out on fd where no hook sees them (sendfile, splice,
 * sendmmsg, dprintf, stdio writes). */
void engine_note_unseen_send(int fd);
/* The program set an option on fd (the call succeeded). */
void engine_note_option_set(int fd, int level, int name, const void *value, socklen_t len);
/* The program's epoll_ctl(epfd, op, fd, event) succeeded. */
struct epoll_event;
void engine_note_epoll(int epfd, int op, int fd, const struct epoll_event *event);
/* The program's fcntl(fd, F_SETFL or F_SETFD, arg) or ioctl(fd, FIONBIO,
 * FIOCLEX or FIONCLEX) succeeded: fd's O_NONBLOCK and FD_CLOEXEC are
 * followed, so that a checkout or a park need not ask the kernel; a
 * vfork child that lets a socket of ours live past its exec holds it
 * from then on. */
void engine_note_fcntl(int fd, int cmd, uintptr_t arg);
void engine_note_ioctl(int fd, unsigned long request, const void *arg);

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

/* The shim's vfork hook: a vfork child is about to run in our memory, and
 * has exec'd or exited (vfork_gate.h). */
void engine_vfork_begins(void);
void engine_vfork_ended(void);

/* The program made fd the source of a dup2 in a child to be spawned
 * (posix_spawn_file_actions_adddup2): the child will hold its socket. */
void engine_fd_given_to_child(int fd);

/* RTLD_DEEPBIND (engine_deepbind.c): a library loaded with it looks up
 * symbols in itself and its own dependencies before the program's global
 * scope, so its socket, connect, send and recv bind straight to libc, past
 * the preloaded hooks (Debian's PHP loads every extension that way).  With
 * SOCKPOOL_DROP_DEEPBIND (the default) the flag is dropped; with it off, it
 * is kept and sockpool says once, at info level, that such a library
 * bypasses it.  Returns the mode to pass on for the program's
 * dlopen(file, mode), mode having RTLD_DEEPBIND; the flag stays until the
 * engine is active.  Keeps errno. */
int engine_dlopen_mode(const char *file, int mode);

/* The configuration in force (for tests and the shim). */
const struct config *engine_config(void);

/* What the engine's parts work with (engine_context.h). */
const struct engine_context *engine_context(void);

#endif
