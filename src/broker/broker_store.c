/*
 * broker_store.c: the broker's held sockets (invariants in broker_store.h).
 *
 * One array, oldest first, scanned linearly: a broker holds a few hundred
 * sockets at most, and a scan of them costs less than the hand-off's own
 * system calls.
 */
#include "broker_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int store_init(struct broker_store *s, unsigned max_per_dest, unsigned max_total, int epfd,
	       store_note_fn note)
{
	memset(s, 0, sizeof(*s));
	s->held = calloc(max_total ? max_total : 1, sizeof(s->held[0]));
	s->max_per_dest = max_per_dest;
	s->max_total = max_total;
	s->epfd = epfd;
	s->note = note;
	return s->held != NULL ? 0 : -1;
}

static bool key_equal(const struct broker_key *a, const struct broker_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;	/* keys are zero-filled */
}

/* Removes held[i], returning it; the caller closes or hands it out. */
static struct held_socket store_remove(struct broker_store *s, unsigned i)
{
	struct held_socket h = s->held[i];

	memmove(&s->held[i], &s->held[i + 1], (s->count - i - 1) * sizeof(s->held[0]));
	s->count--;
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, h.fd, NULL);
	return h;
}

static void store_close(struct broker_store *s, unsigned i)
{
	struct held_socket h = store_remove(s, i);

	close(h.fd);
	s->note(&h.key, STORE_DROPPED);
}

void store_give(struct broker_store *s, struct held_socket h, uint64_t now_ms)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint32_t)h.fd };
	unsigned same = 0, oldest_same = 0;

	s->note(&h.key, STORE_TAKEN_BACK);
	if (s->max_total == 0 || s->max_per_dest == 0 || h.expires_ms <= now_ms)
		goto drop;
	for (unsigned i = s->count; i-- > 0;)
		if (key_equal(&s->held[i].key, &h.key)) {
			same++;
			oldest_same = i;
		}
	if (same >= s->max_per_dest)
		store_close(s, oldest_same);
	else if (s->count >= s->max_total)
		store_close(s, 0);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, h.fd, &ev) != 0)
		goto drop;
	s->held[s->count++] = h;
	return;
drop:
	close(h.fd);
	s->note(&h.key, STORE_DROPPED);
}

/* Alive and at a clean boundary: nothing to read, no EOF, no error. */
static bool socket_is_quiet(int fd)
{
	char byte;
	ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool store_take(struct broker_store *s, const struct broker_key *key, uint64_t now_ms,
		struct held_socket *out)
{
	for (unsigned i = s->count; i-- > 0;) {
		if (!key_equal(&s->held[i].key, key))
			continue;
		if (s->held[i].expires_ms <= now_ms || !socket_is_quiet(s->held[i].fd)) {
			store_close(s, i);
			continue;
		}
		*out = store_remove(s, i);
		s->note(&out->key, STORE_HANDED_OUT);
		return true;
	}
	return false;
}

void store_drop_fd(struct broker_store *s, int fd)
{
	for (unsigned i = 0; i < s->count; i++)
		if (s->held[i].fd == fd) {
			store_close(s, i);
			return;
		}
}

uint64_t store_expire(struct broker_store *s, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < s->count;) {
		if (s->held[i].expires_ms <= now_ms) {
			store_close(s, i);
			continue;
		}
		if (s->held[i].expires_ms < next)
			next = s->held[i].expires_ms;
		i++;
	}
	return next;
}

void store_clear(struct broker_store *s)
{
	while (s->count > 0)
		store_close(s, s->count - 1);
}
