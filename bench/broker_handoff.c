/*
 * broker_handoff.c: what a hand-off through the shared pool's broker
 * costs, against what it saves (a loopback connect).  Used by
 * bench/share.sh:  broker_handoff SOCKET_PATH N
 *
 * It listens on a loopback port of its own, and times N of each:
 *   connect  socket() + connect() to that port (+ close), as a new
 *            connection costs the program;
 *   give     a connected socket sent to the broker (BROKER_GIVE);
 *   take     asking for it back and receiving it (BROKER_TAKE).
 * Prints "connect|give|take p50_us p99_us" lines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../src/broker/broker_proto.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%s %.1f %.1f\n", what, v[n / 2], v[(int)(n * 0.99)]);
}

static int send_msg(int b, struct broker_msg *m, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *cm;

		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(b, &msg, 0) == (ssize_t)sizeof(*m) ? 0 : -1;
}

static int recv_fd(int b)
{
	struct broker_msg m;
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(b, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(m) || m.status != BROKER_OK)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm != NULL)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sa);
	int n = argc > 2 ? atoi(argv[2]) : 2000, lfd, b, c;
	double *tc, *tg, *tt;
	struct broker_msg m = { .magic = BROKER_MAGIC };

	if (argc < 3 || n <= 0 || strlen(argv[1]) >= sizeof(ua.sun_path))
		return 2;
	tc = calloc((size_t)n, sizeof(double));
	tg = calloc((size_t)n, sizeof(double));
	tt = calloc((size_t)n, sizeof(double));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4096) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) != 0)
		return 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		int s = socket(AF_INET, SOCK_STREAM, 0), a;

		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			return 1;
		tc[i] = now_us() - t0;
		a = accept(lfd, NULL, NULL);
		close(s);
		close(a);
	}
	strcpy(ua.sun_path, argv[1]);
	b = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (connect(b, (struct sockaddr *)&ua, sizeof(ua)) != 0)
		return 1;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 1;
	(void)accept(lfd, NULL, NULL);	/* kept open: the connection stays idle */
	len = sizeof(sa);
	getpeername(c, (struct sockaddr *)&sa, &len);
	dest_key_from_sockaddr(&m.key, (struct sockaddr *)&sa, len);
	m.keep_ms = 60000;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();

		m.op = BROKER_GIVE;
		if (send_msg(b, &m, c) != 0)
			return 1;
		close(c);
		tg[i] = now_us() - t0;
		t0 = now_us();
		m.op = BROKER_TAKE;
		if (send_msg(b, &m, -1) != 0 || (c = recv_fd(b)) < 0)
			return 1;
		tt[i] = now_us() - t0;
	}
	report("connect", tc, n);
	report("give", tg, n);
	report("take", tt, n);
	return 0;
}
