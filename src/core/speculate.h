/*
 * speculate.h: speculative checkout, a pooled socket handed out by
 * socket() itself.
 *
 * A connect-per-request program makes socket(), sets the same options,
 * connects to the same place, and closes, over and over.  When this
 * thread's last two connects went to one destination and the pool holds
 * an idle socket there, socket() gives the program that socket, at the
 * lowest free number as socket() would (F_DUPFD of the pool's private fd,
 * which stays its shadow), and connect() to that destination is answered
 * without a system call.  A setsockopt the socket already carries with
 * the same value costs none either.
 *
 * The program must not be able to tell.  Until its connect, the socket is
 * SPECULATIVE, and anything a fresh unconnected socket would answer
 * differently first "settles" it: a new socket is made, given the options
 * the program set, and put under its fd (dup3), and the pooled one goes
 * back to the pool as it was.  That happens on a connect elsewhere, bind,
 * listen, getsockname, getpeername, getsockopt, shutdown, any data call,
 * an option sockpool does not carry, an fcntl or ioctl other than the
 * blocking and close-on-exec flags, dup, epoll_ctl, poll or select, being
 * sent with SCM_RIGHTS or handed to a child (fork, vfork, posix_spawn).
 * A close before connect gives the socket back to the pool.  A connect to
 * the destination whose socket would need an option reset that the
 * program did not set (a record sockpool keeps per idle socket) settles
 * it too: a fresh socket's default is the only exact source.
 *
 * A wrong guess costs a socket, a dup3 and a close more than the program's
 * own socket() would have: so each thread guesses only after two connects
 * in a row to one destination, and after a wrong guess lets a growing
 * number of sockets pass (4, 8, ... 256) before it guesses again.  A
 * program alternating between two destinations never guesses.
 *
 * SOCKPOOL_SPECULATE=0 turns it off.  Not seen, so not covered: a socket
 * inherited by exec() before its connect (a new program given an
 * unconnected TCP socket), and calls made with syscall() or io_uring.
 */
#ifndef SOCKPOOL_CORE_SPECULATE_H
#define SOCKPOOL_CORE_SPECULATE_H

#include <stdbool.h>

#include "conn.h"
#include "dest.h"
#include "engine_context.h"

/* This thread connected a socket of ours to key (or is about to). */
void speculate_note_connect(const struct dest_key *key);

/* Whether this thread's socket(domain) should be a pooled socket: the
 * destination to take one for, in *key. */
bool speculate_worth_trying(int domain, struct dest_key *key);

/* Hands out idle, a pooled socket for key, as socket(type) would: the
 * program's new fd, with c (a fresh conn) made SPECULATIVE for it and
 * idle.fd its shadow; -1 (idle back in the pool) when no fd is to be had.
 * The caller enters c in the fd table.  Keeps errno. */
int speculate_hand_out(const struct engine_context *ctx, struct conn *c, int type,
		       const struct dest_key *key, struct pool_socket idle);

/* The program's connect(fd, key) on speculative c: true when c's socket
 * serves it (c is then ready to become MANAGED, reused); otherwise c is
 * settled, a CANDIDATE with a fresh socket under fd.  Caller holds
 * c->lock. */
bool speculate_connect(const struct engine_context *ctx, struct conn *c, int fd,
		       const struct dest_key *key);

/* Puts a fresh socket of the program's under fd in place of speculative
 * c's pooled one (see above); c becomes a CANDIDATE.  give_back: the
 * pooled socket returns to the pool (else it is closed: a child may hold
 * it).  Caller holds c->lock; keeps errno. */
void speculate_settle(const struct engine_context *ctx, struct conn *c, int fd, bool give_back);

/* Speculative c's fd no longer holds its socket (closed, or another file
 * put on its number): the pooled socket, still held by its shadow, goes
 * back to the pool.  Caller holds c->lock or is c's only holder; keeps
 * errno. */
void speculate_abandon(const struct engine_context *ctx, struct conn *c);

/* How many speculative sockets there are now (a hint read without a lock:
 * 0 lets fork, poll and select skip looking for them). */
unsigned speculate_outstanding(void);

#endif
