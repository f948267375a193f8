/*
 * threads_signals.c: two hazards of a host process, with blocking sockets.
 *
 *   threads_signals duplex  PORT PATH BODY_BYTES ROUNDS
 *   threads_signals signals PORT PATH BODY_BYTES REQUESTS
 *
 * duplex: each round connects, then one thread writes 10 pipelined GET
 * requests on the socket while another thread reads the 10 responses from
 * the same fd; then the socket is closed (a clean boundary: sockpool may
 * pool it) and the next round connects again.
 *
 * signals: a 1 ms interval timer whose SIGALRM handler writes to a pipe
 * and closes a dup of it (hooks called from a signal handler), while the
 * main thread makes REQUESTS requests, one connection each.
 *
 * Every response must be "200" with a body of BODY_BYTES.  Prints one line,
 * "ok ..." or "FAIL ...", and exits 0 or 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PIPELINED 10	/* sockpool follows up to 16 outstanding */

static int port;
static const char *path;
static long body_bytes;

static int connect_local(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one response (headers, then Content-Length bytes) byte by byte
 * from fd, keeping what follows for the next call in *carry. */
static int read_response(int fd)
{
	char head[8192];
	size_t used = 0;
	long length = -1, got = 0;
	char c;

	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1 || used + 1 >= sizeof(head))
			return -1;
		head[used++] = c;
		if (used >= 4 && memcmp(head + used - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[used] = '\0';
	if (strncmp(head, "HTTP/1.1 200", 12) != 0)
		return -1;
	for (char *p = head; (p = strchr(p, '\n')) != NULL; p++)
		if (strncasecmp(p + 1, "content-length:", 15) == 0)
			length = strtol(p + 16, NULL, 10);
	if (length != body_bytes)
		return -1;
	while (got < length) {
		char buf[4096];
		size_t want = (size_t)(length - got) < sizeof(buf) ? (size_t)(length - got) : sizeof(buf);
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

static void *writer(void *arg)
{
	int fd = *(int *)arg;
	char req[512];
	int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);

	for (int i = 0; i < PIPELINED; i++)
		if (send_all(fd, req, (size_t)len) != 0)
			return (void *)1;
	return NULL;
}

static int duplex(long rounds)
{
	for (long r = 0; r < rounds; r++) {
		int fd = connect_local();
		pthread_t t;
		void *wrote;

		pthread_create(&t, NULL, writer, &fd);
		for (int i = 0; i < PIPELINED; i++)
			if (read_response(fd) != 0) {
				printf("FAIL round %ld response %d\n", r, i);
				return 1;
			}
		pthread_join(t, &wrote);
		if (wrote != NULL) {
			printf("FAIL round %ld: writing failed\n", r);
			return 1;
		}
		close(fd);
	}
	printf("ok %ld rounds of %d pipelined requests, written and read by two threads\n",
	       rounds, PIPELINED);
	return 0;
}

static int signal_pipe[2];
static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	int saved = errno;
	int copy = dup(signal_pipe[1]);

	(void)sig;
	if (write(signal_pipe[1], "x", 1) == 1)
		ticks++;
	if (copy >= 0)
		close(copy);
	errno = saved;
}

static int signals(long requests)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval every_ms = { { 0, 1000 }, { 0, 1000 } }, off = { { 0, 0 }, { 0, 0 } };
	char req[512], drain[4096];
	int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	long in_pipe = 0;

	if (pipe2(signal_pipe, O_NONBLOCK) != 0)
		return 1;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every_ms, NULL);
	for (long i = 0; i < requests; i++) {
		int fd = connect_local();

		if (send_all(fd, req, (size_t)len) != 0 || read_response(fd) != 0) {
			printf("FAIL request %ld\n", i);
			return 1;
		}
		close(fd);
		for (ssize_t n; (n = read(signal_pipe[0], drain, sizeof(drain))) > 0;)
			in_pipe += n;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	for (ssize_t n; (n = read(signal_pipe[0], drain, sizeof(drain))) > 0;)
		in_pipe += n;
	if (in_pipe != ticks || ticks == 0) {
		printf("FAIL the handler wrote %ld bytes, the pipe had %ld\n", (long)ticks, in_pipe);
		return 1;
	}
	printf("ok %ld requests with %ld signal handlers writing and closing meanwhile\n",
	       requests, (long)ticks);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s duplex|signals PORT PATH BODY_BYTES COUNT\n", argv[0]);
		return 2;
	}
	port = atoi(argv[2]);
	path = argv[3];
	body_bytes = atol(argv[4]);
	if (strcmp(argv[1], "duplex") == 0)
		return duplex(atol(argv[5]));
	return signals(atol(argv[5]));
}
