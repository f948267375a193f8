/*
 * conn.h: what the shim knows about one program socket it may manage.
 *
 * A conn is created for every TCP socket the program makes (CANDIDATE) and
 * becomes MANAGED when its connect() goes to a destination we pool: from
 * then on every byte it sends and receives is followed by its HTTP/1.x
 * tracker, and its close() may park it in the pool instead.
 *
 * Lifetime: hooks find a conn through the fd table without a lock, while
 * another thread may close that fd.  So conns are type-stable: they are
 * recycled through a free list, never returned to malloc, and carry a
 * generation number that changes on every release.  A hook remembers
 * (conn, generation) before its system call and records the outcome only
 * if, under the conn's lock, the generation is still the same.
 */
#ifndef SOCKPOOL_CORE_CONN_H
#define SOCKPOOL_CORE_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "dest.h"
#include "http1.h"

struct sp_stats_dest;

enum conn_state { CONN_CANDIDATE, CONN_MANAGED };

struct conn {
	pthread_mutex_t lock;
	uint64_t generation;
	struct conn *next_free;

	enum conn_state state;
	bool reused;		/* handed out by the pool */
	bool shared;		/* another fd refers to this socket (dup) */
	bool broken;		/* error, shutdown or a call we cannot follow */
	int sndbuf;		/* SO_SNDBUF / SO_RCVBUF the program set, or -1 */
	int rcvbuf;
	struct dest_key dest;
	struct sp_stats_dest *stats;
	struct http1_tracker http;
};

/* A hook's hold on a conn across one system call. */
struct conn_ref {
	struct conn *conn;
	uint64_t generation;
};

/* A fresh CANDIDATE conn, or NULL when memory is short (the socket is then
 * simply not managed). */
struct conn *conn_acquire(void);

/* Returns c to the free list; holders of an older conn_ref stop seeing it. */
void conn_release(struct conn *c);

/* Takes a conn_ref to fd's conn, or {NULL} when fd is not ours. */
struct conn_ref conn_ref_of_fd(int fd);

/* Locks ref's conn if it is still the same conn; false otherwise. */
bool conn_ref_lock(struct conn_ref ref);

/* Recording the outcome of the program's I/O; each takes the lock and
 * keeps errno.  result is what the system call returned. */
void conn_note_sent(struct conn_ref ref, const void *buf, ssize_t result);
void conn_note_sent_iov(struct conn_ref ref, const struct iovec *iov, int iovcnt,
			ssize_t result);
void conn_note_received(struct conn_ref ref, const void *buf, ssize_t result);
void conn_note_received_iov(struct conn_ref ref, const struct iovec *iov,
			    int iovcnt, ssize_t result);
/* The socket is now used in a way we cannot follow: never pool it. */
void conn_note_broken(struct conn_ref ref);
/* Another fd now shares the socket: never pool it. */
void conn_note_shared(struct conn_ref ref);

/* Why c may not go to the pool, or NULL if it may. Caller holds c->lock. */
const char *conn_unpoolable_reason(const struct conn *c);

/* Makes socket to_fd behave like the program's socket from_fd: the
 * options a program sets (timeouts, keep-alive, Nagle, linger, buffer
 * sizes it chose) and O_NONBLOCK. */
void conn_copy_socket_state(const struct conn *c, int from_fd, int to_fd);

/* In a child after fork(): makes the free list's lock anew (its free conns
 * are abandoned), and for a conn the child inherited through its fd table,
 * makes its lock anew, marks it shared with the parent and drops its link
 * to the parent's statistics. */
void conn_reset_after_fork(void);
void conn_adopt_after_fork(struct conn *c);

#endif
