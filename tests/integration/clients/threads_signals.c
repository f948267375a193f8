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
 *   threads_signals forks PORT PATH BODY_BYTES REQUESTS
 *
 * forks: FORK_WORKERS threads make REQUESTS requests each, one connection
 * each, and before each connect check that their new socket has no local
 * port (as any unconnected socket), while the main thread forks children
 * as fast as it can: socket() handing out pooled sockets (sockpool's
 * speculation) races with fork().  Each child looks, with the raw system
 * call (no hook in the way), at the sockets the workers had made but not
 * yet begun to connect when it was forked: each must have no local port
 * either, or the child exits 1.  fork() copies the fd table and the memory
 * at two moments, so a worker's connect() and close() wait while a fork
 * and its child's look are under way (a lock); its socket() does not.
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
#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
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

#define FORK_WORKERS 3

static long fork_requests;
static int workers_left = FORK_WORKERS;
/* Each worker's socket between its socket() and its connect(), or -1. */
static int unconnected[FORK_WORKERS];
/* Held for writing across a fork and its child's look, for reading across
 * a worker's connect, request and close. */
static pthread_rwlock_t fork_lock;

/* 1: fd has a local port (bound or connected), 0: not, -1: not a socket
 * here (a child's fd table is copied a moment before its memory). */
static int has_local_port(int fd, bool raw)
{
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	int rc = raw ? (int)syscall(SYS_getsockname, fd, (struct sockaddr *)&local, &len)
		     : getsockname(fd, (struct sockaddr *)&local, &len);

	if (rc != 0)
		return -1;
	return local.sin_port != 0;
}

static void *fork_worker(void *arg)
{
	int *slot = arg;
	char req[512];
	int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	void *failed = NULL;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < fork_requests && failed == NULL; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		__atomic_store_n(slot, fd, __ATOMIC_SEQ_CST);
		sched_yield();	/* a fork may come here */
		if (fd < 0 || has_local_port(fd, false) != 0) {
			printf("FAIL request %ld: a new socket with a local port\n", i);
			failed = (void *)1;
		}
		pthread_rwlock_rdlock(&fork_lock);
		__atomic_store_n(slot, -1, __ATOMIC_SEQ_CST);
		if (failed == NULL &&
		    (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		     send_all(fd, req, (size_t)len) != 0 || read_response(fd) != 0)) {
			printf("FAIL request %ld\n", i);
			failed = (void *)1;
		}
		if (fd >= 0)
			close(fd);
		pthread_rwlock_unlock(&fork_lock);
	}
	__atomic_sub_fetch(&workers_left, 1, __ATOMIC_RELEASE);
	return failed;
}

static int forks(long requests)
{
	pthread_t t[FORK_WORKERS];
	long children = 0, looked_at = 0, bad = 0;
	int failed = 0;

	pthread_rwlockattr_t attr;

	/* Writer first: three readers in turn would otherwise starve it. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&fork_lock, &attr);
	fork_requests = requests;
	for (int i = 0; i < FORK_WORKERS; i++) {
		unconnected[i] = -1;
		pthread_create(&t[i], NULL, fork_worker, &unconnected[i]);
	}
	while (__atomic_load_n(&workers_left, __ATOMIC_ACQUIRE) > 0) {
		int status, seen = 0;
		pid_t pid;

		pthread_rwlock_wrlock(&fork_lock);
		pid = fork();
		if (pid == 0) {
			for (int i = 0; i < FORK_WORKERS; i++) {
				int fd = __atomic_load_n(&unconnected[i], __ATOMIC_SEQ_CST);

				if (fd < 0)
					continue;
				switch (has_local_port(fd, true)) {
				case 1:
					_exit(1);
				case 0:
					seen++;
				}
			}
			_exit(seen == 0 ? 0 : 2);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid) {
			children++;
			looked_at += WIFEXITED(status) && WEXITSTATUS(status) == 2;
			bad += !WIFEXITED(status) || WEXITSTATUS(status) == 1;
		}
		pthread_rwlock_unlock(&fork_lock);
	}
	if (bad > 0) {
		printf("FAIL %ld children of %ld held a connected socket the parent had not connected\n",
		       bad, children);
		failed = 1;
	}
	for (int i = 0; i < FORK_WORKERS; i++) {
		void *r;

		pthread_join(t[i], &r);
		failed |= r != NULL;
	}
	if (failed)
		return 1;
	printf("ok %d threads made %ld requests each while %ld children were forked, "
	       "%ld of them with unconnected sockets, all unconnected in the child too\n",
	       FORK_WORKERS, requests, children, looked_at);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s duplex|signals|forks PORT PATH BODY_BYTES COUNT\n",
			argv[0]);
		return 2;
	}
	port = atoi(argv[2]);
	path = argv[3];
	body_bytes = atol(argv[4]);
	if (strcmp(argv[1], "duplex") == 0)
		return duplex(atol(argv[5]));
	if (strcmp(argv[1], "forks") == 0)
		return forks(atol(argv[5]));
	return signals(atol(argv[5]));
}
