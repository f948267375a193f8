/*
 * broker_loop.c: the broker's one thread (see broker.h).
 *
 * One epoll set holds the listening socket, a signalfd, the clients and
 * the held sockets; what each event is comes from the top half of its
 * data word.  Nothing here blocks: every socket is non-blocking, a
 * client that cannot take a reply at once loses it (the socket in it is
 * closed, and the client falls back to a new connection), and a client
 * that sends anything but well-formed messages is dropped.
 *
 * Who may talk to the broker: a peer whose effective uid (SO_PEERCRED)
 * is the broker's own.  Its network namespace is read from
 * /proc/PID/ns/net at accept and becomes part of every key it uses; a
 * peer whose namespace cannot be read is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "../stats/stats_writer.h"
#include "broker.h"
#include "broker_proto.h"
#include "broker_store.h"

enum { EV_HELD = 0, EV_CLIENT = 1, EV_LISTEN = 2, EV_SIGNAL = 3 };
#define EV_DATA(kind, fd) ((uint64_t)(kind) << 32 | (uint32_t)(fd))
#define MAX_FDS_PER_MSG 4

static struct broker_store store;
static const struct broker_options *options;
/* Per client fd: its network namespace (0: not a client). */
static uint64_t *client_netns;
static size_t client_netns_len;

uint64_t broker_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void note_store_event(const struct broker_key *key, enum store_event ev)
{
	struct sp_stats_dest *d = stats_writer_dest(&key->dest);

	switch (ev) {
	case STORE_TAKEN_BACK:
		stats_count(d, SP_BROKER_TAKEN_BACK, 1);
		stats_count(d, SP_IDLE_NOW, 1);
		break;
	case STORE_HANDED_OUT:
		stats_count(d, SP_BROKER_HANDED_OUT, 1);
		stats_count(d, SP_IDLE_NOW, -1);
		break;
	case STORE_DROPPED:
		stats_count(d, SP_BROKER_DROPPED, 1);
		stats_count(d, SP_IDLE_NOW, -1);
		break;
	}
}

static void say(const char *fmt, const char *what)
{
	if (options->verbose)
		fprintf(stderr, "sockpool-broker[%d]: %s%s\n", (int)getpid(), fmt, what);
}

static int set_client_netns(int fd, uint64_t netns)
{
	if ((size_t)fd >= client_netns_len) {
		size_t len = (size_t)fd * 2 + 64;
		uint64_t *grown = realloc(client_netns, len * sizeof(*grown));

		if (grown == NULL)
			return -1;
		memset(grown + client_netns_len, 0, (len - client_netns_len) * sizeof(*grown));
		client_netns = grown;
		client_netns_len = len;
	}
	client_netns[fd] = netns;
	return 0;
}

static void drop_client(int epfd, int fd)
{
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	client_netns[fd] = 0;
	close(fd);
}

/* The peer's network namespace, by its pid; 0 when it cannot be read. */
static uint64_t peer_netns(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return pid > 0 && stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static void accept_clients(int epfd, int listen_fd)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct epoll_event ev = { .events = EPOLLIN };
		uint64_t netns;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
		    cred.uid != geteuid()) {
			/* Another user: no socket of ours ever goes to it. */
			stats_count(NULL, SP_BROKER_REFUSED, 1);
			say("refused a peer of another user", "");
			close(fd);
			continue;
		}
		netns = peer_netns(cred.pid);
		ev.data.u64 = EV_DATA(EV_CLIENT, fd);
		if (netns == 0 || set_client_netns(fd, netns) != 0 ||
		    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			stats_count(NULL, SP_BROKER_REFUSED, 1);
			say("refused a peer whose network namespace is unknown", "");
			if ((size_t)fd < client_netns_len)
				client_netns[fd] = 0;
			close(fd);
		}
	}
}

/* Whether fd is a connected TCP socket to key's destination. */
static bool socket_goes_to(int fd, const struct dest_key *key)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct dest_key peer;
	int type = 0, proto = 0;
	socklen_t ilen = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ilen) != 0 || type != SOCK_STREAM)
		return false;
	ilen = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &ilen) != 0 || proto != IPPROTO_TCP)
		return false;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    dest_key_from_sockaddr(&peer, (struct sockaddr *)&ss, len) != 0)
		return false;
	return memcmp(&peer, key, sizeof(peer)) == 0;
}

static void take_gift(const struct broker_msg *m, int sock, uint64_t netns, uint64_t now)
{
	unsigned keep = m->keep_ms < options->idle_timeout_ms ? m->keep_ms
							       : options->idle_timeout_ms;
	struct held_socket h = {
		.key = { .dest = m->key, .netns = netns }, .fd = sock, .notes = m->notes,
		.digest = m->digest, .expires_ms = now + keep,
		.idle_since_ms = now > m->idle_age_ms ? now - m->idle_age_ms : 0,
	};

	if (!socket_goes_to(sock, &m->key)) {
		say("dropped a socket given under a key it does not go to", "");
		stats_count(NULL, SP_BROKER_DROPPED, 1);
		close(sock);
		return;
	}
	store_give(&store, h, now);
}

/* Answers a take: a held socket for the key, or none. */
static void hand_out(int fd, const struct broker_msg *m, uint64_t netns, uint64_t now)
{
	struct broker_key key = { .dest = m->key, .netns = netns };
	struct broker_msg reply = { .magic = BROKER_MAGIC, .op = BROKER_REPLY, .key = m->key,
				    .status = BROKER_NONE };
	union broker_control control;
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct held_socket h;
	bool have = store_take(&store, &key, now, &h);

	if (have) {
		reply.status = BROKER_OK;
		reply.notes = h.notes;
		reply.digest = h.digest;
		reply.idle_age_ms = (uint32_t)(now - h.idle_since_ms);
		reply.keep_ms = (uint32_t)(h.expires_ms - now);
		broker_attach_fd(&msg, &control, h.fd);
	}
	if (sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(reply) && have)
		stats_count(NULL, SP_BROKER_DROPPED, 1);
	if (have)
		close(h.fd);	/* the client's copy is the socket now */
}

/* Closes every descriptor in msg's control data. */
static int received_fds(struct msghdr *msg, int *fds, int max)
{
	int n = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* Reads and acts on what client fd sent; false when it is to go. */
static bool serve_client(int fd, uint64_t now)
{
	for (;;) {
		struct broker_msg m;
		union {
			char buf[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_MSG)];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		int fds[MAX_FDS_PER_MSG], nfds;
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		if (n == 0)
			return false;
		nfds = received_fds(&msg, fds, MAX_FDS_PER_MSG);
		if (msg.msg_flags & MSG_CTRUNC) {
			/* Our fd limit: the kernel dropped what did not fit. */
			stats_count(NULL, SP_HANDOFF_LOST, 1);
			say("a socket given was lost: out of descriptors (MSG_CTRUNC)", "");
		}
		if ((size_t)n != sizeof(m) || m.magic != BROKER_MAGIC ||
		    (m.op == BROKER_GIVE && nfds != 1) || (m.op == BROKER_TAKE && nfds != 0) ||
		    (m.op != BROKER_GIVE && m.op != BROKER_TAKE)) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			if (msg.msg_flags & MSG_CTRUNC)
				continue;	/* counted; the client goes on */
			say("dropped a client that sent a malformed message", "");
			return false;
		}
		if (m.op == BROKER_GIVE)
			take_gift(&m, fds[0], client_netns[fd], now);
		else
			hand_out(fd, &m, client_netns[fd], now);
	}
}

static int make_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int open_stats(void)
{
	const char *on = getenv("SOCKPOOL_STATS"), *dir = getenv("SOCKPOOL_STATS_DIR");

	if (on != NULL && strcmp(on, "0") == 0)
		return 0;
	return stats_writer_open(dir != NULL && dir[0] != '\0' ? dir : "/dev/shm",
				 "sockpool-broker");
}

int broker_serve(const struct broker_options *opt, int listen_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t last_used = broker_now_ms(), next_expiry = UINT64_MAX;
	int epfd = epoll_create1(EPOLL_CLOEXEC), sigfd = make_signalfd();

	options = opt;
	if (epfd < 0 || sigfd < 0 ||
	    store_init(&store, opt->max_per_dest, opt->max_total, epfd, note_store_event) != 0)
		return 1;
	(void)open_stats();
	ev.data.u64 = EV_DATA(EV_LISTEN, listen_fd);
	(void)epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev);
	ev.data.u64 = EV_DATA(EV_SIGNAL, sigfd);
	(void)epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	for (;;) {
		struct epoll_event events[64];
		uint64_t now = broker_now_ms(), wake = next_expiry;
		int timeout, n;

		if (opt->persist_ms != 0 && last_used + opt->persist_ms < wake)
			wake = last_used + opt->persist_ms;
		timeout = wake == UINT64_MAX ? -1 : wake <= now ? 0
			: wake - now > 60000 ? 60000 : (int)(wake - now);
		n = epoll_wait(epfd, events, 64, timeout);
		now = broker_now_ms();
		for (int i = 0; i < n; i++) {
			int kind = (int)(events[i].data.u64 >> 32);
			int fd = (int)(uint32_t)events[i].data.u64;

			if (kind == EV_SIGNAL)
				goto stop;
			if (kind == EV_LISTEN) {
				accept_clients(epfd, listen_fd);
				last_used = now;
			} else if (kind == EV_CLIENT) {
				last_used = now;
				if (!serve_client(fd, now))
					drop_client(epfd, fd);
			} else {
				/* EPOLLRDHUP, data or an error on an idle socket:
				 * the server closed it or broke the boundary. */
				store_drop_fd(&store, fd);
			}
		}
		next_expiry = store_expire(&store, now);
		if (opt->persist_ms != 0 && now >= last_used + opt->persist_ms) {
			say("unused for the persist time: exiting", "");
			break;
		}
	}
stop:
	store_clear(&store);
	stats_writer_close(false);
	return 0;
}
