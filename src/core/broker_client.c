/*
 * broker_client.c: asking the shared pool's broker for sockets and giving
 * it ours (see broker_client.h for the rules).
 *
 * One SOCK_SEQPACKET connection per process, opened at first use on a
 * private high descriptor (fd_budget.h), reused for every message: a
 * take is then one sendmsg, one bounded poll and one recvmsg.  A take
 * that times out leaves the connection out of step (the late answer
 * could be read as the next one), so any failure closes it.
 */
#include "broker_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../broker/broker_proto.h"
#include "../stats/stats_writer.h"
#include "clock.h"
#include "conn.h"
#include "engine.h"
#include "fdtab.h"
#include "log.h"
#include "sys.h"

static char broker_path[BROKER_PATH_MAX];
static bool enabled;
static pthread_mutex_t broker_lock = PTHREAD_MUTEX_INITIALIZER;
static int broker_fd = -1;		/* under broker_lock */
static uint64_t paused_until_ms;	/* under broker_lock */
static bool said_gone;			/* under broker_lock */

void broker_client_start(config_getenv_fn getenv_fn)
{
	const char *path = getenv_fn("SOCKPOOL_BROKER");

	if (path == NULL || path[0] == '\0')
		return;
	if (path[0] != '/' || strlen(path) >= sizeof(broker_path)) {
		log_warn("SOCKPOOL_BROKER='%s' is not valid: expected an absolute path shorter "
			 "than %d bytes; this process uses its own pool", path, BROKER_PATH_MAX);
		return;
	}
	memcpy(broker_path, path, strlen(path) + 1);
	enabled = true;
}

bool broker_client_enabled(void)
{
	return enabled;
}

/* The broker cannot be used now: one line per process, a pause, and the
 * connection closed.  Caller holds broker_lock. */
static void broker_gone(const char *why, int err)
{
	if (broker_fd >= 0)
		sys.close(broker_fd);
	broker_fd = -1;
	paused_until_ms = clock_monotonic_ms() + BROKER_CLIENT_PAUSE_MS;
	if (!said_gone) {
		said_gone = true;
		log_warn("shared pool %s: %s%s%s; this process uses its own pool", broker_path,
			 why, err ? ": " : "", err ? strerror(err) : "");
	}
}

/* Connects to the broker, checks it runs as our user and puts the
 * connection high.  Caller holds broker_lock.  false when it cannot be. */
static bool broker_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, high;

	if (broker_fd >= 0)
		return true;
	if (clock_monotonic_ms() < paused_until_ms)
		return false;
	memcpy(sa.sun_path, broker_path, strlen(broker_path) + 1);
	fd = sys.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		broker_gone("no socket to reach it", errno);
		return false;
	}
	/* AF_UNIX connects complete at once, or fail with EAGAIN when the
	 * broker's backlog is full: a broker that busy counts as gone. */
	if (sys.connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;

		sys.close(fd);
		broker_gone("cannot connect", err);
		return false;
	}
	if (sys.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != geteuid()) {
		sys.close(fd);
		broker_gone("the broker is not of this user", 0);
		return false;
	}
	high = sys.fcntl(fd, F_DUPFD_CLOEXEC, engine_context()->private_fd_floor());
	if (high >= 0) {
		sys.close(fd);
		fd = high;
	}
	broker_fd = fd;
	return true;
}

static ssize_t send_msg(const struct broker_msg *m, int fd_to_pass)
{
	union broker_control control;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd_to_pass >= 0)
		broker_attach_fd(&msg, &control, fd_to_pass);
	return sys.sendmsg(broker_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Waits up to BROKER_CLIENT_ANSWER_MS for the broker's answer (a raw
 * ppoll: poll is a hooked name).  Whether it came. */
static bool wait_for_answer(void)
{
	uint64_t deadline = clock_monotonic_ms() + BROKER_CLIENT_ANSWER_MS;

	for (;;) {
		struct pollfd p = { .fd = broker_fd, .events = POLLIN };
		uint64_t now = clock_monotonic_ms();
		struct timespec ts;
		long rc;

		if (now >= deadline)
			return false;
		ts.tv_sec = (time_t)((deadline - now) / 1000);
		ts.tv_nsec = (long)((deadline - now) % 1000) * 1000000L;
		rc = syscall(SYS_ppoll, &p, 1, &ts, NULL, (size_t)8);
		if (rc > 0)
			return true;
		if (rc == 0 || errno != EINTR)
			return false;
	}
}

/* Reads the answer to a take; the socket in it, or -1.  Caller holds
 * broker_lock. */
static int read_answer(const struct dest_key *key, struct broker_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = sys.recvmsg(broker_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	int fd = -1, extra = 0;

	if (n <= 0) {
		broker_gone(n == 0 ? "the broker closed the connection" : "cannot read its answer",
			    n == 0 ? 0 : errno);
		return -1;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(got));
			if (fd < 0) {
				fd = got;
			} else {
				sys.close(got);
				extra++;
			}
		}
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		/* At our fd limit the kernel drops the socket it could not
		 * give us: counted, and this connect makes a new one. */
		stats_count(stats_writer_dest(key), SP_HANDOFF_LOST, 1);
		log_info("a socket from the shared pool was lost: out of descriptors");
	}
	if ((size_t)n != sizeof(*m) || m->magic != BROKER_MAGIC || m->op != BROKER_REPLY ||
	    memcmp(&m->key, key, sizeof(*key)) != 0 || extra != 0 ||
	    (m->status == BROKER_OK) != (fd >= 0)) {
		if (fd >= 0)
			sys.close(fd);
		if (!(msg.msg_flags & MSG_CTRUNC))
			broker_gone("the broker's answer makes no sense", 0);
		return -1;
	}
	return fd;
}

int broker_client_take(const struct dest_key *key, struct pool_socket *out)
{
	struct broker_msg m = { .magic = BROKER_MAGIC, .op = BROKER_TAKE, .key = *key };
	int saved_errno = errno, fd = -1;
	struct stat st;

	if (!enabled)
		return -1;
	pthread_mutex_lock(&broker_lock);
	if (!broker_open())
		goto out;
	if (send_msg(&m, -1) != (ssize_t)sizeof(m)) {
		broker_gone("cannot ask the broker", errno);
		goto out;
	}
	if (!wait_for_answer()) {
		broker_gone("no answer in time", 0);
		goto out;
	}
	fd = read_answer(key, &m);
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))) {
		sys.close(fd);
		fd = -1;
	}
	/* It came at the lowest free number, where the program's own go, and
	 * it may stay as the connection's shadow (conn.h): to the private
	 * range, as every fd of sockpool's. */
	if (fd >= 0) {
		int high = sys.fcntl(fd, F_DUPFD_CLOEXEC, engine_context()->private_fd_floor());

		sys.close(fd);
		fd = high;
		if (fd >= 0)
			fdtab_private_mark(fd);
	}
out:
	pthread_mutex_unlock(&broker_lock);
	if (fd >= 0) {
		uint64_t now = clock_monotonic_ms();

		*out = (struct pool_socket){
			.fd = fd, .dev = st.st_dev, .inode = st.st_ino, .notes = m.notes,
			.digest = m.digest, .stats = stats_writer_dest(key),
			.idle_since_ms = now > m.idle_age_ms ? now - m.idle_age_ms : 0,
		};
		log_debug("took an idle connection from the shared pool");
	}
	errno = saved_errno;
	return fd;
}

bool broker_client_give(const struct dest_key *key, struct pool_socket s,
			uint64_t idle_since_ms, uint64_t expires_ms)
{
	uint64_t now = clock_monotonic_ms();
	struct broker_msg m = {
		.magic = BROKER_MAGIC, .op = BROKER_GIVE, .key = *key, .notes = s.notes,
		.digest = s.digest,
		.idle_age_ms = (uint32_t)(now > idle_since_ms ? now - idle_since_ms : 0),
		.keep_ms = (uint32_t)(expires_ms > now ? expires_ms - now : 0),
	};
	int saved_errno = errno;
	bool given = false;

	if (enabled && !(s.notes & CONN_NOTE_CONN_AUTH) && m.keep_ms > 0) {
		pthread_mutex_lock(&broker_lock);
		if (broker_open()) {
			given = send_msg(&m, s.fd) == (ssize_t)sizeof(m);
			if (!given && errno != EAGAIN && errno != EWOULDBLOCK)
				broker_gone("cannot give the broker a socket", errno);
		}
		pthread_mutex_unlock(&broker_lock);
	}
	sys.close(s.fd);	/* in flight, the message holds the socket */
	errno = saved_errno;
	return given;
}

void broker_client_after_fork_child(void)
{
	pthread_mutex_init(&broker_lock, NULL);
	if (broker_fd >= 0)
		sys.close(broker_fd);	/* our copy; the parent keeps its own */
	broker_fd = -1;
}
