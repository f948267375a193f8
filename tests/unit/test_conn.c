/*
 * test_conn.c: per-socket state (src/core/conn.h): recycling and the
 * generation rule, the notes hooks make about the program's I/O, why a
 * conn may not be pooled, and carrying socket state onto a pooled socket.
 *
 * The hooks' part is played by hand: the test makes the real call on a
 * socketpair, then passes its result to conn_note_*() through a conn_ref
 * taken from the fd table, as src/shim/ does.  Socket options are checked
 * on real loopback TCP sockets, since AF_UNIX has no TCP options.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "sys_libc.h"
#include "../../src/core/conn.h"
#include "../../src/core/fdtab.h"

#define GET "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
#define OK_5 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

/* The program's socket (client), the server's end (server), and the conn
 * the table holds for client. */
struct wire {
	int client, server;
	struct conn *conn;
};

static int init_fdtab(void **state)
{
	(void)state;
	return fdtab_init(65536);
}

static struct conn *managed_conn_for(int fd)
{
	struct conn *c = conn_acquire();

	assert_non_null(c);
	c->state = CONN_MANAGED;
	assert_true(fdtab_set(fd, c));
	return c;
}

static struct wire wire_open(void)
{
	struct wire w;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	w.client = sv[0];
	w.server = sv[1];
	w.conn = managed_conn_for(w.client);
	return w;
}

static void wire_close(struct wire *w)
{
	assert_ptr_equal(fdtab_take(w->client), w->conn);
	conn_release(w->conn);
	close(w->client);
	close(w->server);
}

/* The program sends s in one send(), as a hook sees it. */
static void program_sends(struct wire *w, const char *s)
{
	ssize_t n = send(w->client, s, strlen(s), 0);

	conn_note_sent(conn_ref_of_fd(w->client), s, n);
	assert_int_equal(n, (ssize_t)strlen(s));
}

/* The server answers s; the program reads all of it with one recv(). */
static void server_answers(struct wire *w, const char *s)
{
	char buf[512];
	ssize_t n;

	assert_int_equal(write(w->server, s, strlen(s)), (ssize_t)strlen(s));
	n = recv(w->client, buf, sizeof(buf), 0);
	conn_note_received(conn_ref_of_fd(w->client), buf, n);
	assert_int_equal(n, (ssize_t)strlen(s));
}

static const char *reason_of(struct conn *c)
{
	const char *why;

	pthread_mutex_lock(&c->lock);
	why = conn_unpoolable_reason(c);
	pthread_mutex_unlock(&c->lock);
	return why;
}

/* ---- lifetime and the generation rule ---- */

static void test_ref_taken_before_release_cannot_lock_after(void **state)
{
	struct conn *c = conn_acquire(), *again;
	struct conn_ref ref;

	(void)state;
	assert_true(fdtab_set(10, c));
	ref = conn_ref_of_fd(10);
	assert_ptr_equal(ref.conn, c);
	assert_true(conn_ref_lock(ref));
	pthread_mutex_unlock(&c->lock);

	assert_ptr_equal(fdtab_take(10), c);
	conn_release(c);
	assert_false(conn_ref_lock(ref));
	again = conn_acquire();			/* the same memory, recycled */
	assert_ptr_equal(again, c);
	assert_false(conn_ref_lock(ref));
	assert_true(fdtab_set(10, again));
	assert_true(conn_ref_lock(conn_ref_of_fd(10)));
	pthread_mutex_unlock(&again->lock);
	assert_ptr_equal(fdtab_take(10), again);
	conn_release(again);
}

static void test_ref_of_an_fd_that_is_not_ours_is_empty(void **state)
{
	struct conn_ref ref = conn_ref_of_fd(11);

	(void)state;
	assert_null(ref.conn);
	assert_false(conn_ref_lock(ref));
	assert_null(conn_ref_of_fd(-1).conn);
	assert_null(conn_ref_of_fd(1 << 30).conn);
}

static void test_notes_through_a_stale_ref_change_nothing(void **state)
{
	struct wire w = wire_open();
	struct conn_ref stale = conn_ref_of_fd(w.client);
	struct conn *c;

	(void)state;
	assert_ptr_equal(fdtab_take(w.client), w.conn);
	conn_release(w.conn);
	c = managed_conn_for(w.client);		/* the fd's new conn, same memory */
	assert_ptr_equal(c, w.conn);
	conn_note_sent(stale, GET, (ssize_t)strlen(GET));
	conn_note_received(stale, "x", -1);
	conn_note_broken(stale);
	conn_note_shared(stale);
	assert_int_equal(c->http.requests_started, 0);
	assert_false(c->broken);
	assert_false(c->shared);
	wire_close(&w);
}

static void test_recycled_conn_starts_afresh(void **state)
{
	struct conn *c = conn_acquire(), *again;

	(void)state;
	c->state = CONN_MANAGED;
	c->reused = c->shared = c->broken = true;
	c->options_set = 5;
	c->inode = 7;
	c->dest.port = 80;
	http1_feed_request(&c->http, GET, strlen(GET));
	conn_release(c);
	again = conn_acquire();
	assert_ptr_equal(again, c);
	assert_int_equal(again->state, CONN_CANDIDATE);
	assert_false(again->reused || again->shared || again->broken);
	assert_int_equal(again->options_set, 0);
	assert_int_equal(again->inode, 0);
	assert_int_equal(again->dest.port, 0);
	assert_int_equal(again->http.requests_started, 0);
	assert_int_equal(again->http.protocol, HTTP1_UNDECIDED);
	conn_release(again);
}

/* ---- notes feed the tracker ---- */

static void test_exchange_noted_on_a_managed_conn_makes_it_poolable(void **state)
{
	struct wire w = wire_open();

	(void)state;
	assert_string_equal(reason_of(w.conn), "no complete request was sent");
	program_sends(&w, GET);
	assert_string_equal(reason_of(w.conn), "a request or response is incomplete");
	server_answers(&w, OK_5);
	assert_null(reason_of(w.conn));
	wire_close(&w);
}

static void test_candidate_conn_ignores_io_and_is_not_poolable(void **state)
{
	struct wire w = wire_open();

	(void)state;
	w.conn->state = CONN_CANDIDATE;
	program_sends(&w, GET);
	server_answers(&w, OK_5);
	assert_int_equal(w.conn->http.requests_started, 0);
	assert_string_equal(reason_of(w.conn), "not connected");
	wire_close(&w);
}

/* Only the bytes a partial send() or recv() moved are fed: what lies in
 * the buffer beyond the result would make the tracker give up. */
static void test_only_the_bytes_a_call_moved_are_noted(void **state)
{
	static const char request[] = GET "\x16junk", response[] = OK_5 "\x16junk";
	struct wire w = wire_open();
	struct conn_ref ref = conn_ref_of_fd(w.client);
	size_t half = strlen(OK_5) / 2;

	(void)state;
	conn_note_sent(ref, request, 5);		/* "GET /" went out */
	conn_note_sent(ref, &request[5], (ssize_t)strlen(GET) - 5);
	assert_int_equal(w.conn->http.requests_done, 1);
	conn_note_received(ref, response, (ssize_t)half);
	assert_string_equal(reason_of(w.conn), "a request or response is incomplete");
	conn_note_received(ref, &response[half], (ssize_t)(strlen(OK_5) - half));
	assert_null(reason_of(w.conn));
	wire_close(&w);
}

static void test_vectored_io_is_noted_in_order_up_to_the_result(void **state)
{
	struct wire w = wire_open();
	struct conn_ref ref = conn_ref_of_fd(w.client);
	struct iovec out[3] = { { "GET /a HT", 9 }, { "TP/1.1\r\nHost: x\r\n", 17 },
				{ "\r\n", 2 } };
	char b1[10], b2[10], b3[64];
	struct iovec in[3] = { { b1, sizeof(b1) }, { b2, sizeof(b2) }, { b3, sizeof(b3) } };
	ssize_t n;

	(void)state;
	n = writev(w.client, out, 3);
	conn_note_sent_iov(ref, out, 3, n);
	assert_int_equal(w.conn->http.requests_done, 1);
	assert_int_equal(write(w.server, OK_5, strlen(OK_5)), (ssize_t)strlen(OK_5));
	n = readv(w.client, in, 3);
	assert_int_equal(n, (ssize_t)strlen(OK_5));
	conn_note_received_iov(ref, in, 3, n);
	assert_null(reason_of(w.conn));
	/* A result shorter than the vectors: the rest was not moved. */
	conn_note_sent_iov(ref, out, 3, 12);
	assert_string_equal(reason_of(w.conn), "a request or response is incomplete");
	wire_close(&w);
}

static void test_eof_makes_a_clean_conn_unpoolable(void **state)
{
	struct wire w = wire_open();

	(void)state;
	program_sends(&w, GET);
	server_answers(&w, OK_5);
	shutdown(w.server, SHUT_WR);
	conn_note_received(conn_ref_of_fd(w.client), "", recv(w.client, &(char){ 0 }, 1, 0));
	assert_string_equal(reason_of(w.conn), "upgrade, CONNECT, EOF or unparsable HTTP");
	wire_close(&w);
}

/* A failed call: transient errors change nothing, others break the conn;
 * either way the program's errno survives the note. */
static void test_failed_calls_break_the_conn_unless_transient(void **state)
{
	static const struct { int err; bool breaks; } cases[] = {
		{ EAGAIN, false }, { EINTR, false }, { ECONNRESET, true },
		{ EPIPE, true }, { ETIMEDOUT, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int sending = 0; sending < 2; sending++) {
			struct wire w = wire_open();
			struct conn_ref ref = conn_ref_of_fd(w.client);

			program_sends(&w, GET);
			server_answers(&w, OK_5);
			errno = cases[i].err;
			if (sending)
				conn_note_sent(ref, GET, -1);
			else
				conn_note_received(ref, NULL, -1);
			assert_int_equal(errno, cases[i].err);
			assert_int_equal(w.conn->broken, cases[i].breaks);
			wire_close(&w);
		}
	}
}

static void test_errno_survives_successful_notes(void **state)
{
	struct wire w = wire_open();
	struct conn_ref ref = conn_ref_of_fd(w.client);

	(void)state;
	errno = EINPROGRESS;
	conn_note_sent(ref, GET, (ssize_t)strlen(GET));
	conn_note_received(ref, OK_5, (ssize_t)strlen(OK_5));
	conn_note_received(ref, NULL, 0);
	assert_int_equal(errno, EINPROGRESS);
	wire_close(&w);
}

/* ---- why not pool ---- */

static void test_shared_and_broken_conns_say_why_not(void **state)
{
	struct wire w = wire_open();
	struct conn_ref ref = conn_ref_of_fd(w.client);

	(void)state;
	program_sends(&w, GET);
	server_answers(&w, OK_5);
	conn_note_broken(ref);
	assert_string_equal(reason_of(w.conn),
			    "an error, a shutdown or a call sockpool cannot follow");
	conn_note_shared(ref);			/* the first reason wins */
	assert_string_equal(reason_of(w.conn), "the fd was duplicated");
	wire_close(&w);
}

static void test_each_conversation_gives_its_reason(void **state)
{
	static const struct { const char *request, *response, *reason; } cases[] = {
		{ "PING\r\n", "", "not HTTP/1.x" },
		{ "GET /a HTTP/1.1\r\nHo", "", "no complete request was sent" },
		{ GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
		  "a request or response is incomplete" },
		{ "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n", OK_5,
		  "the program asked the server to close" },
		{ GET, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		  "the server announced it closes" },
		{ GET, "HTTP/1.1 200 OK\r\nKeep-Alive: max=0\r\nContent-Length: 0\r\n\r\n",
		  "the server allows no more requests" },
		{ "CONNECT h:443 HTTP/1.1\r\n\r\n", "", "upgrade, CONNECT, EOF or unparsable HTTP" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wire w = wire_open();

		program_sends(&w, cases[i].request);
		if (cases[i].response[0] != '\0')
			server_answers(&w, cases[i].response);
		if (strcmp(reason_of(w.conn), cases[i].reason) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, reason_of(w.conn), cases[i].reason);
		wire_close(&w);
	}
}

/* ---- carrying socket state onto a pooled socket ---- */

struct tcp_pair {
	int listener, from, to;
};

static int tcp_client(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)addr, sizeof(*addr)), 0);
	return fd;
}

/* Two connected loopback TCP client sockets (the listener's backlog holds
 * them; they need never be accepted). */
static struct tcp_pair tcp_pair_open(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct tcp_pair tp;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tp.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(tp.listener >= 0);
	assert_int_equal(bind(tp.listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(tp.listener, 4), 0);
	assert_int_equal(getsockname(tp.listener, (struct sockaddr *)&addr, &len), 0);
	tp.from = tcp_client(&addr);
	tp.to = tcp_client(&addr);
	return tp;
}

static void tcp_pair_close(struct tcp_pair *tp)
{
	close(tp->from);
	close(tp->to);
	close(tp->listener);
}

static int int_option(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* The program's setsockopt(), as the hook reports it: the real call on fd,
 * then the note through the fd table. */
static void program_sets(int fd, int level, int name, const void *value, socklen_t len)
{
	assert_int_equal(setsockopt(fd, level, name, value, len), 0);
	conn_note_option_set(conn_ref_of_fd(fd), level, name, value, len);
}

static void program_sets_int(int fd, int level, int name, int v)
{
	program_sets(fd, level, name, &v, sizeof(v));
}

/* Counts the option calls the copy makes, to prove it skips what cannot
 * differ. */
static int option_calls;
static int (*libc_getsockopt)(int, int, int, void *, socklen_t *);
static int (*libc_setsockopt)(int, int, int, const void *, socklen_t);

static int counting_getsockopt(int fd, int level, int name, void *v, socklen_t *len)
{
	option_calls++;
	return libc_getsockopt(fd, level, name, v, len);
}

static int counting_setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	option_calls++;
	return libc_setsockopt(fd, level, name, v, len);
}

static void count_option_calls(bool on)
{
	if (on) {
		libc_getsockopt = sys.getsockopt;
		libc_setsockopt = sys.setsockopt;
		sys.getsockopt = counting_getsockopt;
		sys.setsockopt = counting_setsockopt;
		option_calls = 0;
	} else {
		sys.getsockopt = libc_getsockopt;
		sys.setsockopt = libc_setsockopt;
	}
}

static void test_copy_carries_timeouts_tcp_options_and_nonblock(void **state)
{
	struct tcp_pair tp = tcp_pair_open();
	struct conn *c = managed_conn_for(tp.from);
	struct timeval rcv = { 2, 500000 }, got;
	struct linger linger = { 1, 3 }, got_linger;
	socklen_t len = sizeof(got);
	int flags;

	(void)state;
	c->state = CONN_CANDIDATE;
	program_sets(tp.from, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	program_sets(tp.from, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
	program_sets_int(tp.from, IPPROTO_TCP, TCP_NODELAY, 1);
	program_sets_int(tp.from, SOL_SOCKET, SO_KEEPALIVE, 1);
	program_sets_int(tp.from, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	program_sets_int(tp.from, SOL_SOCKET, SO_SNDBUF, 65536);
	program_sets_int(tp.from, IPPROTO_IP, IP_TOS, 0x10);
	assert_int_equal(fcntl(tp.from, F_SETFL, fcntl(tp.from, F_GETFL) | O_NONBLOCK), 0);
	errno = EINPROGRESS;
	flags = conn_copy_socket_state(c, tp.from, tp.to, 0, 0);
	assert_int_equal(errno, EINPROGRESS);
	assert_true(flags >= 0 && (flags & O_NONBLOCK));

	assert_int_equal(getsockopt(tp.to, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
	assert_int_equal(got.tv_sec, 2);
	assert_int_equal(got.tv_usec, 500000);
	len = sizeof(got_linger);
	assert_int_equal(getsockopt(tp.to, SOL_SOCKET, SO_LINGER, &got_linger, &len), 0);
	assert_int_equal(got_linger.l_onoff, 1);
	assert_int_equal(got_linger.l_linger, 3);
	assert_int_equal(int_option(tp.to, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(int_option(tp.to, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(int_option(tp.to, IPPROTO_TCP, TCP_KEEPIDLE), 77);
	assert_int_equal(int_option(tp.to, SOL_SOCKET, SO_SNDBUF),
			 int_option(tp.from, SOL_SOCKET, SO_SNDBUF));
	assert_int_equal(int_option(tp.to, IPPROTO_IP, IP_TOS), 0x10);
	assert_true(fcntl(tp.to, F_GETFL) & O_NONBLOCK);
	assert_ptr_equal(fdtab_take(tp.from), c);
	conn_release(c);
	tcp_pair_close(&tp);
}

/* What an earlier program set on the pooled socket, as its notes say, is
 * reset to the new socket's value, here the defaults. */
static void test_copy_clears_what_the_program_did_not_set(void **state)
{
	struct tcp_pair tp = tcp_pair_open();
	struct conn *earlier = managed_conn_for(tp.to), *c;
	struct timeval rcv = { 9, 0 }, got;
	socklen_t len = sizeof(got);
	uint32_t notes;

	(void)state;
	program_sets(tp.to, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	program_sets_int(tp.to, IPPROTO_TCP, TCP_NODELAY, 1);
	assert_int_equal(fcntl(tp.to, F_SETFL, fcntl(tp.to, F_GETFL) | O_NONBLOCK), 0);
	notes = conn_socket_notes(earlier, tp.to);
	assert_true(notes & CONN_NOTE_NONBLOCK);
	assert_ptr_equal(fdtab_take(tp.to), earlier);
	conn_release(earlier);

	c = conn_acquire();
	assert_int_equal(conn_copy_socket_state(c, tp.from, tp.to, notes, 0) & O_NONBLOCK, 0);
	assert_int_equal(getsockopt(tp.to, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
	assert_int_equal(got.tv_sec, 0);
	assert_int_equal(got.tv_usec, 0);
	assert_int_equal(int_option(tp.to, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_false(fcntl(tp.to, F_GETFL) & O_NONBLOCK);
	/* The socket's history goes on with it to its next park. */
	assert_int_equal(conn_socket_notes(c, tp.to), notes & ~CONN_NOTE_NONBLOCK);
	conn_release(c);
	tcp_pair_close(&tp);
}

/* A socket nobody ever set options on costs no option calls at checkout. */
static void test_copy_makes_no_option_calls_when_nothing_was_set(void **state)
{
	struct tcp_pair tp = tcp_pair_open();
	struct conn *c = conn_acquire();

	(void)state;
	count_option_calls(true);
	assert_true(conn_copy_socket_state(c, tp.from, tp.to, 0, conn_options_digest(c)) >= 0);
	count_option_calls(false);
	assert_int_equal(option_calls, 0);
	conn_release(c);
	tcp_pair_close(&tp);
}

/* The pooled socket had the very options the program set on its new
 * socket (same digest): nothing is set.  One value differs: all are. */
static void test_copy_skips_options_the_pooled_socket_already_has(void **state)
{
	struct tcp_pair tp = tcp_pair_open();
	struct conn *earlier = managed_conn_for(tp.to), *c = managed_conn_for(tp.from);
	struct timeval rcv = { 3, 0 };
	socklen_t len = sizeof(rcv);
	uint32_t notes;
	uint64_t digest;

	(void)state;
	program_sets(tp.to, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	program_sets_int(tp.to, IPPROTO_TCP, TCP_NODELAY, 1);
	notes = conn_socket_notes(earlier, tp.to);
	digest = conn_options_digest(earlier);
	program_sets(tp.from, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	program_sets_int(tp.from, IPPROTO_TCP, TCP_NODELAY, 1);
	count_option_calls(true);
	assert_true(conn_copy_socket_state(c, tp.from, tp.to, notes, digest) >= 0);
	count_option_calls(false);
	assert_int_equal(option_calls, 0);

	rcv.tv_sec = 4;
	program_sets(tp.from, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	count_option_calls(true);
	assert_true(conn_copy_socket_state(c, tp.from, tp.to, notes, digest) >= 0);
	count_option_calls(false);
	assert_int_equal(option_calls, 2);	/* both set again */
	rcv.tv_sec = 0;
	assert_int_equal(getsockopt(tp.to, SOL_SOCKET, SO_RCVTIMEO, &rcv, &len), 0);
	assert_int_equal(rcv.tv_sec, 4);
	assert_ptr_equal(fdtab_take(tp.to), earlier);
	assert_ptr_equal(fdtab_take(tp.from), c);
	conn_release(earlier);
	conn_release(c);
	tcp_pair_close(&tp);
}

/* A speculative socket (speculate.h): the program's setsockopt of a value
 * the pooled socket already has is not made; another value is, on the
 * pooled socket, and its record follows; an option not carried is left to
 * the caller (which settles the socket first). */
static void test_speculative_option_skips_what_the_socket_has(void **state)
{
	struct tcp_pair tp = tcp_pair_open();
	struct conn *c = conn_acquire();
	int one = 1, zero = 0, rc = -1;
	uint64_t digest;

	(void)state;
	assert_int_equal(setsockopt(tp.to, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	c->state = CONN_SPECULATIVE;
	c->options_set = 0;
	c->spec.notes = 0;
	/* Not on the pool's record yet: set for real, and recorded. */
	assert_true(conn_speculative_option(c, tp.to, IPPROTO_TCP, TCP_NODELAY, &one,
					    sizeof(one), &rc));
	assert_int_equal(rc, 0);
	assert_true(c->spec.notes != 0);
	digest = c->spec.digest;

	count_option_calls(true);
	assert_true(conn_speculative_option(c, tp.to, IPPROTO_TCP, TCP_NODELAY, &one,
					    sizeof(one), &rc));
	count_option_calls(false);
	assert_int_equal(option_calls, 0);
	assert_int_equal(rc, 0);
	assert_true(conn_option_already_set(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	assert_false(conn_option_already_set(c, IPPROTO_TCP, TCP_NODELAY, &zero, sizeof(zero)));

	assert_true(conn_speculative_option(c, tp.to, IPPROTO_TCP, TCP_NODELAY, &zero,
					    sizeof(zero), &rc));
	assert_int_equal(rc, 0);
	assert_int_equal(int_option(tp.to, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_true(c->spec.digest != digest);
	assert_false(conn_speculative_option(c, tp.to, IPPROTO_TCP, TCP_MAXSEG, &one,
					     sizeof(one), &rc));
	conn_release(c);
	tcp_pair_close(&tp);
}

/* At a speculative connect, an option the pooled socket carries and the
 * program did not set goes back to a new socket's value, known from an
 * earlier checkout's reading of it; never read, nothing is done. */
static void test_speculative_reset_uses_the_defaults_read_before(void **state)
{
	struct tcp_pair tp = tcp_pair_open();
	struct conn *earlier = managed_conn_for(tp.to), *c, *reader;
	struct timeval rcv = { 9, 0 }, got;
	socklen_t len = sizeof(got);
	uint32_t notes;
	int fresh;

	(void)state;
	program_sets(tp.to, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	program_sets_int(tp.to, IPPROTO_TCP, TCP_KEEPCNT, 7);
	notes = conn_socket_notes(earlier, tp.to);
	c = conn_acquire();
	c->state = CONN_SPECULATIVE;
	c->dest.family = AF_INET6;	/* no default read for this family yet */
	c->spec.notes = notes;
	memcpy(c->spec.options, earlier->options, sizeof(c->spec.options));
	count_option_calls(true);
	assert_int_equal(conn_speculative_options_reset(c, tp.to), 0);
	count_option_calls(false);
	assert_int_equal(option_calls, 0);
	assert_int_equal(c->options_set, 0);

	/* A checkout for a program that set neither reads the defaults of
	 * AF_INET from its new socket. */
	fresh = socket(AF_INET, SOCK_STREAM, 0);
	reader = conn_acquire();
	reader->dest.family = AF_INET;
	assert_true(conn_copy_socket_state(reader, fresh, tp.from, notes, 0) >= 0);
	conn_release(reader);
	close(fresh);
	c->dest.family = AF_INET;
	assert_int_equal(conn_speculative_options_reset(c, tp.to), 1);
	assert_int_equal(getsockopt(tp.to, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
	assert_int_equal(got.tv_sec, 0);
	assert_int_equal(int_option(tp.to, IPPROTO_TCP, TCP_KEEPCNT),
			 int_option(tp.from, IPPROTO_TCP, TCP_KEEPCNT));
	assert_int_equal(c->options_set, notes & ~CONN_NOTE_FLAGS);
	assert_ptr_equal(fdtab_take(tp.to), earlier);
	conn_release(earlier);
	conn_release(c);
	tcp_pair_close(&tp);
}

/* Options sockpool cannot carry make the socket unpoolable; options with
 * no lasting effect do not. */
static void test_unknown_option_breaks_harmless_one_does_not(void **state)
{
	struct tcp_pair tp = tcp_pair_open();
	struct conn *c = managed_conn_for(tp.from);
	int one = 1;

	(void)state;
	program_sets_int(tp.from, SOL_SOCKET, SO_REUSEADDR, 1);
	program_sets_int(tp.from, IPPROTO_TCP, TCP_QUICKACK, 1);
	assert_false(c->broken);
	assert_int_equal(c->options_set, 0);
	program_sets(tp.from, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	assert_true(c->broken);
	/* The first refused option is kept, to be named to the user. */
	program_sets_int(tp.from, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 4096);
	assert_true(c->refused_option.set);
	assert_int_equal(c->refused_option.level, IPPROTO_TCP);
	assert_int_equal(c->refused_option.name, TCP_CORK);
	assert_string_equal(reason_of(c), "the program set a socket option sockpool cannot carry");
	assert_ptr_equal(fdtab_take(tp.from), c);
	conn_release(c);
	tcp_pair_close(&tp);
}

/* What dual-stack runtimes (Java, .NET) set on every socket before
 * connect: IPV6_V6ONLY cleared, which refuses no connect a pooled socket
 * could have made, so it neither breaks the conn nor costs a call at
 * checkout.  Set, it would make a connect to ::ffff:a.b.c.d fail that a
 * pooled socket would not: refused. */
static void test_dual_stack_v6only_cleared_is_harmless_set_is_refused(void **state)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct conn *c;

	(void)state;
	if (fd < 0)
		skip();		/* no IPv6 here */
	c = managed_conn_for(fd);
	c->state = CONN_CANDIDATE;	/* before connect, as Java sets it */
	program_sets_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
	assert_false(c->broken);
	assert_false(c->refused_option.set);
	assert_int_equal(c->options_set, 0);
	program_sets_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	assert_true(c->broken);
	assert_true(c->refused_option.set);
	assert_int_equal(c->refused_option.name, IPV6_V6ONLY);
	assert_ptr_equal(fdtab_take(fd), c);
	conn_release(c);
	c = conn_acquire();	/* recycled: the refusal went with the socket */
	assert_false(c->refused_option.set);
	conn_release(c);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_taken_before_release_cannot_lock_after),
		cmocka_unit_test(test_ref_of_an_fd_that_is_not_ours_is_empty),
		cmocka_unit_test(test_notes_through_a_stale_ref_change_nothing),
		cmocka_unit_test(test_recycled_conn_starts_afresh),
		cmocka_unit_test(test_exchange_noted_on_a_managed_conn_makes_it_poolable),
		cmocka_unit_test(test_candidate_conn_ignores_io_and_is_not_poolable),
		cmocka_unit_test(test_only_the_bytes_a_call_moved_are_noted),
		cmocka_unit_test(test_vectored_io_is_noted_in_order_up_to_the_result),
		cmocka_unit_test(test_eof_makes_a_clean_conn_unpoolable),
		cmocka_unit_test(test_failed_calls_break_the_conn_unless_transient),
		cmocka_unit_test(test_errno_survives_successful_notes),
		cmocka_unit_test(test_shared_and_broken_conns_say_why_not),
		cmocka_unit_test(test_each_conversation_gives_its_reason),
		cmocka_unit_test(test_copy_carries_timeouts_tcp_options_and_nonblock),
		cmocka_unit_test(test_copy_makes_no_option_calls_when_nothing_was_set),
		cmocka_unit_test(test_copy_skips_options_the_pooled_socket_already_has),
		cmocka_unit_test(test_unknown_option_breaks_harmless_one_does_not),
		cmocka_unit_test(test_dual_stack_v6only_cleared_is_harmless_set_is_refused),
		cmocka_unit_test(test_copy_clears_what_the_program_did_not_set),
		cmocka_unit_test(test_speculative_option_skips_what_the_socket_has),
		cmocka_unit_test(test_speculative_reset_uses_the_defaults_read_before),
	};

	return cmocka_run_group_tests(tests, init_fdtab, NULL);
}
