/*
 * test_data_path.c: the rules of retry.h and rewrite.h, decided on a
 * scripted network.
 *
 * The engine runs as in a program (engine_start, the fd table, the pool),
 * but its connect, send and recv go to a script the test writes: each
 * entry says what the next such call returns (bytes, end-of-file, or an
 * error).  The descriptors are real (AF_UNIX socket pairs), so the
 * engine's fstat identity checks and dup3 moves work as they do on TCP;
 * only what "the network" answers is made up.  Each test names one rule
 * and fails if the rule is broken: a POST once written is never sent
 * again, the first replay goes at once, a non-blocking call is not
 * replayed, a rewritten send reports the program's bytes, end-of-file
 * after a response began is the program's.  Milliseconds, no network.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sys_libc.h"
#include "../../src/core/engine.h"
#include "../../src/core/io_call.h"
#include "../../src/core/retry.h"

/* ---- the scripted network ---- */

enum call_kind { CALL_CONNECT, CALL_SEND, CALL_RECV };

struct step {
	enum call_kind kind;
	ssize_t result;		/* bytes (send: at most what was asked), 0, or -1 */
	int err;		/* errno when result is -1 */
	const char *data;	/* recv: the bytes that arrive */
};

#define SCRIPT_MAX 16
static struct step script[SCRIPT_MAX];
static size_t script_len, script_next;
static unsigned sockets_made, connects_made;
static char sent[1 << 16];	/* every byte the network took, in order */
static size_t sent_len;

static void play(const struct step *steps, size_t n)
{
	assert_true(n <= SCRIPT_MAX);
	memcpy(script, steps, n * sizeof(*steps));
	script_len = n;
	script_next = 0;
	sockets_made = connects_made = 0;
	sent_len = 0;
}

/* The next step, which must be of this kind; none left fails the test. */
static const struct step *next_step(enum call_kind kind)
{
	const struct step *s;

	if (script_next >= script_len)
		fail_msg("call of kind %d after the script's end", kind);
	s = &script[script_next++];
	if (s->kind != kind)
		fail_msg("call of kind %d where the script has %d", kind, s->kind);
	return s;
}

static ssize_t answer(const struct step *s)
{
	if (s->result < 0)
		errno = s->err;
	return s->result;
}

static int fake_socket(int domain, int type, int protocol)
{
	int sp[2];

	(void)domain;
	(void)protocol;
	sockets_made++;
	if (socketpair(AF_UNIX, SOCK_STREAM | (type & (SOCK_CLOEXEC | SOCK_NONBLOCK)), 0, sp) != 0)
		return -1;
	close(sp[1]);
	return sp[0];
}

static int fake_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	(void)fd;
	(void)addr;
	(void)len;
	connects_made++;
	return (int)answer(next_step(CALL_CONNECT));
}

static ssize_t fake_send(int fd, const void *buf, size_t len, int flags)
{
	const struct step *s = next_step(CALL_SEND);
	size_t took = s->result > 0 && (size_t)s->result < len ? (size_t)s->result : len;

	(void)fd;
	(void)flags;
	if (s->result < 0)
		return answer(s);
	assert_true(sent_len + took <= sizeof(sent));
	memcpy(sent + sent_len, buf, took);
	sent_len += took;
	return (ssize_t)took;
}

static ssize_t fake_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	assert_int_equal(msg->msg_iovlen, 1);
	return fake_send(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags);
}

static ssize_t fake_recv(int fd, void *buf, size_t len, int flags)
{
	const struct step *s = next_step(CALL_RECV);
	size_t n = s->data != NULL ? strlen(s->data) : 0;

	(void)fd;
	(void)flags;
	if (s->result < 0)
		return answer(s);
	assert_true(n <= len);
	if (n > 0)
		memcpy(buf, s->data, n);
	return (ssize_t)n;
}

static ssize_t fake_read(int fd, void *buf, size_t len)
{
	return fake_recv(fd, buf, len, 0);
}

/* ---- the program's side ---- */

static const char *test_env(const char *name)
{
	static const char *const env[][2] = {
		{ "SOCKPOOL_STATS", "0" },
		{ "SOCKPOOL_RETRIES", "3" },
		/* A pause before the first replay could not fit in the
		 * deadline: the first-replay test relies on it. */
		{ "SOCKPOOL_RETRY_DEADLINE_MS", "1000" },
		{ "SOCKPOOL_BACKOFF_BASE_MS", "5000" },
		{ "SOCKPOOL_BACKOFF_MAX_MS", "5000" },
		{ "SOCKPOOL_RETRY_BUDGET_PERCENT", "100" },
	};

	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (strcmp(env[i][0], name) == 0)
			return env[i][1];
	return NULL;
}

static char *test_getenv(const char *name)
{
	return (char *)test_env(name);
}

static int setup_engine(void **state)
{
	(void)state;
	sys.socket = fake_socket;
	sys.connect = fake_connect;
	sys.send = fake_send;
	sys.sendmsg = fake_sendmsg;
	sys.recv = fake_recv;
	sys.read = fake_read;
	engine_start(test_getenv, "test_data_path");
	return engine_active() ? 0 : -1;
}

/* A program's socket to 127.0.0.1:port, connected (the script's first
 * step answers the connect).  Each test uses its own port: the retry
 * budget is kept per destination. */
static int program_socket(unsigned short port, bool nonblocking)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int type = SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0);
	int fd = fake_socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	sockets_made = 0;
	engine_socket_created(fd, AF_INET, type, 0);
	assert_int_equal(engine_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	connects_made = 0;
	return fd;
}

static ssize_t program_send(int fd, const char *text)
{
	return engine_io(&(struct io_call){ .kind = IO_SEND, .fd = fd, .buf = (void *)text,
					   .len = strlen(text) });
}

static ssize_t program_recv(int fd, char *buf, size_t len)
{
	return engine_io(&(struct io_call){ .kind = IO_RECV, .fd = fd, .buf = buf, .len = len });
}

#define RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define GET "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
#define POST "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"

/* ---- the rules ---- */

static void test_post_once_written_is_never_sent_again(void **state)
{
	char buf[256];
	int fd;

	(void)state;
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, 1000, 0, NULL },
		{ CALL_RECV, -1, ECONNRESET, NULL },
	}, 3);
	fd = program_socket(9001, false);
	assert_int_equal(program_send(fd, POST), strlen(POST));
	assert_int_equal(program_recv(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(sockets_made, 0);	/* no new connection */
	assert_int_equal(script_next, script_len);
	engine_close(fd);
}

static void test_get_is_replayed_at_once_on_a_new_connection(void **state)
{
	char buf[256];
	ssize_t n;
	int fd;

	(void)state;
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, 1000, 0, NULL },
		{ CALL_RECV, -1, ECONNRESET, NULL },
		{ CALL_CONNECT, 0, 0, NULL },		/* the replay's connection */
		{ CALL_SEND, 1000, 0, NULL },		/* the kept bytes again */
		{ CALL_RECV, 0, 0, RESPONSE },
	}, 6);
	fd = program_socket(9002, false);
	assert_int_equal(program_send(fd, GET), strlen(GET));
	/* The backoff (5 s) does not fit in the deadline (1 s): only a
	 * replay that does not pause can happen at all. */
	n = program_recv(fd, buf, sizeof(buf));
	assert_int_equal(n, strlen(RESPONSE));
	assert_int_equal(sockets_made, 1);
	assert_int_equal(sent_len, 2 * strlen(GET));
	assert_memory_equal(sent + strlen(GET), GET, strlen(GET));
	engine_close(fd);
}

static void test_nonblocking_call_is_not_replayed(void **state)
{
	char buf[256];
	int fd;

	(void)state;
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, 1000, 0, NULL },
		{ CALL_RECV, -1, ECONNRESET, NULL },
	}, 3);
	fd = program_socket(9003, true);
	assert_int_equal(program_send(fd, GET), strlen(GET));
	assert_int_equal(program_recv(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(sockets_made, 0);
	engine_close(fd);
}

static void test_eof_after_the_response_began_is_the_programs(void **state)
{
	char buf[256];
	int fd;

	(void)state;
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, 1000, 0, NULL },
		{ CALL_RECV, 0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab" },
		{ CALL_RECV, 0, 0, NULL },		/* end-of-file mid-body */
	}, 4);
	fd = program_socket(9004, false);
	assert_int_equal(program_send(fd, GET), strlen(GET));
	assert_true(program_recv(fd, buf, sizeof(buf)) > 0);
	assert_int_equal(program_recv(fd, buf, sizeof(buf)), 0);
	assert_int_equal(sockets_made, 0);
	engine_close(fd);
}

static void test_rewritten_send_reports_the_programs_bytes(void **state)
{
	static const char request[] =
		"POST /up HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 10\r\n\r\n"
		"0123456789";
	size_t head = strlen(request) - 10;
	int fd;

	(void)state;
	/* The rewritten head goes whole, the body only in part: the count is
	 * the program's head plus the part, not the rewritten head's. */
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, 1000, 0, NULL },
		{ CALL_SEND, 4, 0, NULL },
	}, 3);
	fd = program_socket(9005, true);
	assert_int_equal(program_send(fd, request), head + 4);
	assert_null(strstr(sent, "Connection: close"));
	assert_memory_equal(sent + sent_len - 4, "0123", 4);
	engine_close(fd);
}

static void test_rewritten_send_never_fails_after_its_head_went(void **state)
{
	static const char request[] =
		"POST /up HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 10\r\n\r\n"
		"0123456789";
	int fd;

	(void)state;
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, 1000, 0, NULL },
		{ CALL_SEND, -1, EAGAIN, NULL },	/* the body must wait */
	}, 3);
	fd = program_socket(9006, true);
	assert_int_equal(program_send(fd, request), strlen(request) - 10);
	engine_close(fd);
}

static void test_rewritten_send_that_sent_nothing_says_eagain(void **state)
{
	static const char request[] = "GET / HTTP/1.0\r\nHost: a\r\n\r\n";
	int fd;

	(void)state;
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, -1, EAGAIN, NULL },
	}, 2);
	fd = program_socket(9007, true);
	assert_int_equal(program_send(fd, request), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(sent_len, 0);
	engine_close(fd);
}

static void test_rewritten_exchange_reads_close_then_end_of_file(void **state)
{
	static const char request[] = "GET / HTTP/1.0\r\nHost: a\r\n\r\n";
	char buf[256];
	ssize_t n;
	int fd;

	(void)state;
	play((struct step[]){
		{ CALL_CONNECT, 0, 0, NULL },
		{ CALL_SEND, 1000, 0, NULL },
		{ CALL_RECV, 0, 0,
		  "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok" },
	}, 3);
	fd = program_socket(9008, false);
	assert_int_equal(program_send(fd, request), strlen(request));
	assert_non_null(strstr(sent, "keep-alive"));	/* what the server got */
	n = program_recv(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "Connection:close      \r\n"));
	/* The connection went to the pool; fd reads end-of-file now, from
	 * the socket put in its place, without the network. */
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_once_written_is_never_sent_again),
		cmocka_unit_test(test_get_is_replayed_at_once_on_a_new_connection),
		cmocka_unit_test(test_nonblocking_call_is_not_replayed),
		cmocka_unit_test(test_eof_after_the_response_began_is_the_programs),
		cmocka_unit_test(test_rewritten_send_reports_the_programs_bytes),
		cmocka_unit_test(test_rewritten_send_never_fails_after_its_head_went),
		cmocka_unit_test(test_rewritten_send_that_sent_nothing_says_eagain),
		cmocka_unit_test(test_rewritten_exchange_reads_close_then_end_of_file),
	};

	return cmocka_run_group_tests(tests, setup_engine, NULL);
}
