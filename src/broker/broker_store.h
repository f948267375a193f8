/*
 * broker_store.h: the idle sockets a broker holds, keyed by destination
 * and network namespace.
 *
 * Invariants:
 *  - A held socket is registered in the broker's epoll set (for
 *    EPOLLRDHUP and stray data: the server closed it, or broke the HTTP
 *    boundary) and nowhere else in the broker; it is taken out of the set
 *    before it is handed out, so the taker's traffic never wakes the
 *    broker.
 *  - At most max_per_dest sockets per (destination, namespace) and
 *    max_total in all; a give beyond either closes the oldest.
 *  - A socket is never handed out past its expiry, and a take gets the
 *    newest one (the least likely to be closed by the server).
 *  - A socket never crosses network namespaces: the namespace is part of
 *    the key.
 */
#ifndef SOCKPOOL_BROKER_STORE_H
#define SOCKPOOL_BROKER_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/dest.h"

struct broker_key {
	struct dest_key dest;
	uint64_t netns;		/* inode of the namespace */
};

struct held_socket {
	struct broker_key key;
	int fd;
	uint32_t notes;
	uint64_t digest;
	uint64_t idle_since_ms;
	uint64_t expires_ms;
};

/* What a store counts (mirrored into the statistics segment). */
enum store_event { STORE_TAKEN_BACK, STORE_HANDED_OUT, STORE_DROPPED };
typedef void (*store_note_fn)(const struct broker_key *key, enum store_event ev);

struct broker_store {
	struct held_socket *held;	/* oldest first */
	unsigned count;
	unsigned max_per_dest;
	unsigned max_total;
	int epfd;			/* where held sockets are watched */
	store_note_fn note;
};

/* 0, or -1 (no memory). */
int store_init(struct broker_store *s, unsigned max_per_dest, unsigned max_total, int epfd,
	       store_note_fn note);

/* Keeps h (the store owns h->fd from now on, closing it when it cannot
 * keep it). */
void store_give(struct broker_store *s, struct held_socket h, uint64_t now_ms);

/* The newest live socket for key, now owned by the caller, or false. */
bool store_take(struct broker_store *s, const struct broker_key *key, uint64_t now_ms,
		struct held_socket *out);

/* Held socket fd had an event (EPOLLRDHUP, data, error): dropped. */
void store_drop_fd(struct broker_store *s, int fd);

/* Closes what expired; when the next socket expires (UINT64_MAX: none). */
uint64_t store_expire(struct broker_store *s, uint64_t now_ms);

/* Closes every held socket. */
void store_clear(struct broker_store *s);

#endif
