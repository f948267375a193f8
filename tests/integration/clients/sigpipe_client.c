/*
 * sigpipe_client.c: what a program sees when it writes to a connection the
 * server reset, so that a test can compare it plain and under sockpool.
 *
 *   sigpipe_client MODE CALL PORT
 *
 * MODE is the program's SIGPIPE arrangement:
 *   default   SIG_DFL: the first EPIPE kills it (exit status 141 in a shell)
 *   ignore    SIG_IGN: it gets EPIPE and lives
 *   handler   a handler that counts its runs: one run per EPIPE returned
 *   nosignal  the handler too, but every send passes MSG_NOSIGNAL: no runs
 * CALL is the call that writes: write, send or sendmsg (nosignal needs send
 * or sendmsg, the calls that take flags).
 *
 * It connects to 127.0.0.1:PORT (a server that resets every connection,
 * fault_server.py --reset-on-accept) with a blocking socket, then writes a
 * complete GET request again and again, 5 ms apart, without reading, until
 * the call has failed with EPIPE twice (the first EPIPE ends a program in
 * default mode).  A real socket answers the first write after the reset
 * with ECONNRESET and every later one with EPIPE; a shim may absorb some
 * of them by retrying, so the number of writes is printed, not judged.
 *
 * Output, when it lives to the end: one line
 *   result=EPIPE|no-EPIPE epipes=N handler_runs=N mismatch=0|1 resets=N writes=N
 * where mismatch=1 says that at some moment the handler runs differed from
 * what the mode allows (as many as the EPIPEs so far in handler mode, none
 * otherwise).  Exit 0 when it ran to the end, 2 for a usage error, 3 when
 * it could not connect or saw another error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_WRITES	200
#define EPIPES_WANTED	2
#define PAUSE_MS	5

enum mode { MODE_DEFAULT, MODE_IGNORE, MODE_HANDLER, MODE_NOSIGNAL };
enum call { CALL_WRITE, CALL_SEND, CALL_SENDMSG };

static volatile sig_atomic_t handler_runs;

static const char request[] = "GET /sigpipe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			      "X-Request-Id: sigpipe\r\n\r\n";

static void count_sigpipe(int signo)
{
	(void)signo;
	handler_runs++;
}

static void usage(void)
{
	fprintf(stderr, "usage: sigpipe_client default|ignore|handler|nosignal "
			"write|send|sendmsg PORT\n");
	exit(2);
}

static int set_disposition(enum mode mode)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	switch (mode) {
	case MODE_DEFAULT:
		sa.sa_handler = SIG_DFL;
		break;
	case MODE_IGNORE:
		sa.sa_handler = SIG_IGN;
		break;
	case MODE_HANDLER:
	case MODE_NOSIGNAL:
		sa.sa_handler = count_sigpipe;
		break;
	}
	return sigaction(SIGPIPE, &sa, NULL);
}

/* One whole request through the chosen call: its result, errno kept. */
static ssize_t write_request(int fd, enum call call, int flags)
{
	struct iovec iov = { .iov_base = (void *)request, .iov_len = sizeof(request) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	switch (call) {
	case CALL_WRITE:
		return write(fd, request, sizeof(request) - 1);
	case CALL_SEND:
		return send(fd, request, sizeof(request) - 1, flags);
	case CALL_SENDMSG:
		return sendmsg(fd, &msg, flags);
	}
	return -1;
}

static int connect_to(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static enum mode parse_mode(const char *s)
{
	if (strcmp(s, "default") == 0)
		return MODE_DEFAULT;
	if (strcmp(s, "ignore") == 0)
		return MODE_IGNORE;
	if (strcmp(s, "handler") == 0)
		return MODE_HANDLER;
	if (strcmp(s, "nosignal") == 0)
		return MODE_NOSIGNAL;
	usage();
	return MODE_DEFAULT;
}

static enum call parse_call(const char *s)
{
	if (strcmp(s, "write") == 0)
		return CALL_WRITE;
	if (strcmp(s, "send") == 0)
		return CALL_SEND;
	if (strcmp(s, "sendmsg") == 0)
		return CALL_SENDMSG;
	usage();
	return CALL_WRITE;
}

int main(int argc, char **argv)
{
	enum mode mode;
	enum call call;
	int fd, flags, port, epipes = 0, resets = 0, writes = 0;
	bool mismatch = false;

	if (argc != 4)
		usage();
	mode = parse_mode(argv[1]);
	call = parse_call(argv[2]);
	port = atoi(argv[3]);
	if (port <= 0 || port > 65535 || (mode == MODE_NOSIGNAL && call == CALL_WRITE))
		usage();
	flags = mode == MODE_NOSIGNAL ? MSG_NOSIGNAL : 0;
	if (set_disposition(mode) != 0) {
		perror("sigpipe_client: sigaction");
		return 3;
	}
	fd = connect_to(port);
	if (fd < 0) {
		perror("sigpipe_client: connect");
		return 3;
	}
	while (writes < MAX_WRITES && epipes < EPIPES_WANTED) {
		ssize_t n = write_request(fd, call, flags);
		int err = errno;
		int allowed;

		writes++;
		if (n < 0 && err == EPIPE)
			epipes++;
		else if (n < 0 && err == ECONNRESET)
			resets++;
		else if (n < 0) {
			fprintf(stderr, "sigpipe_client: write %d: %s\n", writes, strerror(err));
			return 3;
		}
		/* A SIGPIPE is delivered before the call returns, so the count
		 * must already agree with the mode. */
		allowed = mode == MODE_HANDLER ? epipes : 0;
		if (handler_runs != allowed)
			mismatch = true;
		if (epipes < EPIPES_WANTED)
			pause_ms(PAUSE_MS);
	}
	printf("result=%s epipes=%d handler_runs=%d mismatch=%d resets=%d writes=%d\n",
	       epipes > 0 ? "EPIPE" : "no-EPIPE", epipes, (int)handler_runs, mismatch,
	       resets, writes);
	close(fd);
	return 0;
}
