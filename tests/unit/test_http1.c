/*
 * test_http1.c: the HTTP/1.x tracker (src/core/http1.h).
 *
 * Most behaviours are whole conversations (the request bytes the program
 * sent, then the response bytes it read) with the verdict the tracker must
 * reach: reusable or not, HTTP or not, what Keep-Alive said.  Each one is
 * a named test that checks the verdict three ways: fed whole, split in two
 * at every byte offset of the request crossed with every offset of the
 * response, and fed one byte at a time; a program's read() and write()
 * calls may cut the stream anywhere, and the verdict must not depend on
 * where.  Behaviours that need a call between the bytes (EOF, give-up,
 * a second exchange on the same tracker) are ordinary tests below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sys_libc.h"
#include "../../src/core/http1.h"
#include "../../src/core/http1_rewrite.h"

struct bytes {
	const char *data;
	size_t len;
};

/* A literal with its length, so that binary bytes (NUL) can be fed. */
#define B(s) { (s), sizeof(s) - 1 }

struct conversation {
	struct bytes request;
	struct bytes response;
	bool reusable;
	enum http1_protocol protocol;
	bool in_exchange;		/* a request still awaits its final answer */
	int32_t keep_alive_timeout_s;	/* expected; -1: not announced */
	int32_t keep_alive_max;
};

/* The verdicts a conversation is judged by. */
struct verdict {
	bool reusable;
	enum http1_protocol protocol;
	bool in_exchange;
	int32_t keep_alive_timeout_s;
	int32_t keep_alive_max;
};

static struct verdict verdict_of(const struct http1_tracker *t)
{
	return (struct verdict){ http1_reusable(t), t->protocol, http1_in_exchange(t),
				 t->keep_alive_timeout_s, t->keep_alive_max };
}

static void feed_in_two(struct http1_tracker *t, const struct conversation *c,
			size_t request_cut, size_t response_cut)
{
	http1_feed_request(t, c->request.data, request_cut);
	http1_feed_request(t, c->request.data + request_cut, c->request.len - request_cut);
	http1_feed_response(t, c->response.data, response_cut);
	http1_feed_response(t, c->response.data + response_cut, c->response.len - response_cut);
}

static void feed_bytewise(struct http1_tracker *t, const struct conversation *c)
{
	for (size_t i = 0; i < c->request.len; i++)
		http1_feed_request(t, c->request.data + i, 1);
	for (size_t i = 0; i < c->response.len; i++)
		http1_feed_response(t, c->response.data + i, 1);
}

static void assert_verdict(const struct conversation *c, struct verdict got,
			   const char *how)
{
	if (got.reusable == c->reusable && got.protocol == c->protocol &&
	    got.in_exchange == c->in_exchange &&
	    got.keep_alive_timeout_s == c->keep_alive_timeout_s &&
	    got.keep_alive_max == c->keep_alive_max)
		return;
	fail_msg("fed %s: reusable %d (want %d), protocol %d (want %d), in_exchange %d "
		 "(want %d), keep-alive timeout %d (want %d) max %d (want %d)", how,
		 got.reusable, c->reusable, got.protocol, c->protocol, got.in_exchange,
		 c->in_exchange, got.keep_alive_timeout_s, c->keep_alive_timeout_s,
		 got.keep_alive_max, c->keep_alive_max);
}

/* The body of every conversation test: same verdict however it is cut,
 * with the tracker's fast path for response heads and without it. */
static void check_conversation(void **state)
{
	const struct conversation *c = *state;
	struct http1_tracker t;
	char how[96];

	for (int fast = 0; fast <= 1; fast++) {
		http1_fast_path = fast;
		for (size_t i = 0; i <= c->request.len; i++) {
			for (size_t j = 0; j <= c->response.len; j++) {
				http1_init(&t);
				feed_in_two(&t, c, i, j);
				snprintf(how, sizeof(how), "cut at request %zu, response %zu%s",
					 i, j, fast ? "" : " (http-parser alone)");
				assert_verdict(c, verdict_of(&t), how);
			}
		}
		http1_init(&t);
		feed_bytewise(&t, c);
		assert_verdict(c, verdict_of(&t), "one byte at a time");
	}
	http1_fast_path = true;
}

#define CONVERSATION_TEST(conv) \
	{ #conv, check_conversation, NULL, NULL, (void *)&(conv) }

/* Shorthands for the expectation fields. */
#define REUSABLE true, HTTP1_HTTP, false, -1, -1
#define NOT_REUSABLE false, HTTP1_HTTP, false, -1, -1
#define NOT_REUSABLE_IN_EXCHANGE false, HTTP1_HTTP, true, -1, -1
#define NOT_HTTP false, HTTP1_NOT_HTTP, false, -1, -1

#define GET "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
#define OK_5 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

/* ---- framing: the tracker finds the end of each message ---- */

static const struct conversation get_answered_with_content_length_is_reusable = {
	B(GET), B(OK_5), REUSABLE
};

static const struct conversation get_answered_with_chunks_and_trailers_is_reusable = {
	B(GET),
	B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
	  "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n"),
	REUSABLE
};

static const struct conversation post_with_chunked_body_answered_is_reusable = {
	B("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "3\r\nabc\r\n0\r\n\r\n"),
	B("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
	REUSABLE
};

static const struct conversation post_with_unfinished_chunked_body_is_not_reusable = {
	B("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
	B(""),
	false, HTTP1_HTTP, true, -1, -1
};

/* A HEAD response announces a length but has no body: the pipelined GET's
 * response starts right after the HEAD response's headers. */
static const struct conversation head_response_has_no_body_and_next_pipelined_get_is_read = {
	B("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n" GET),
	B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" OK_5),
	REUSABLE
};

static const struct conversation head_response_alone_is_reusable_after_headers = {
	B("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"),
	B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
	REUSABLE
};

static const struct conversation head_response_without_length_is_reusable = {
	B("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"), B("HTTP/1.1 200 OK\r\n\r\n"), REUSABLE
};

static const struct conversation head_pipelined_after_get_is_matched_to_its_response = {
	B(GET "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"),
	B(OK_5 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
	REUSABLE
};

static const struct conversation head_response_announcing_chunks_has_no_body = {
	B("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"),
	B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
	REUSABLE
};

static const struct conversation continue_100_before_final_response_is_reusable = {
	B("PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"),
	B("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	REUSABLE
};

static const struct conversation continue_100_alone_leaves_exchange_open = {
	B("PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"),
	B("HTTP/1.1 100 Continue\r\n\r\n"),
	NOT_REUSABLE_IN_EXCHANGE
};

static const struct conversation early_hints_103_before_final_response_is_reusable = {
	B(GET),
	B("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" OK_5),
	REUSABLE
};

static const struct conversation no_content_204_has_no_body = {
	B(GET), B("HTTP/1.1 204 No Content\r\n\r\n"), REUSABLE
};

static const struct conversation not_modified_304_has_no_body = {
	B(GET), B("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"), REUSABLE
};

/* RFC 9110 8.6: a 304 may carry the Content-Length the 200 would have had;
 * it still has no body (RFC 9112 6.3 rule 1). */
static const struct conversation not_modified_304_with_content_length_has_no_body = {
	B(GET), B("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"), REUSABLE
};

static const struct conversation no_content_204_with_content_length_has_no_body = {
	B(GET), B("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), REUSABLE
};

/* ---- who wants to keep the connection ---- */

static const struct conversation http10_request_without_keep_alive_is_not_reusable = {
	B("GET /a HTTP/1.0\r\nHost: x\r\n\r\n"),
	B("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
	NOT_REUSABLE
};

static const struct conversation http10_keep_alive_on_both_sides_is_reusable = {
	B("GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
	B("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello"),
	REUSABLE
};

static const struct conversation http10_response_without_keep_alive_is_not_reusable = {
	B(GET), B("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"), NOT_REUSABLE
};

static const struct conversation request_connection_close_is_not_reusable = {
	B("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), B(OK_5), NOT_REUSABLE
};

static const struct conversation response_connection_close_is_not_reusable = {
	B(GET), B("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"),
	NOT_REUSABLE
};

/* Without a length the body runs to EOF: the exchange never ends cleanly. */
static const struct conversation response_delimited_by_eof_is_not_reusable = {
	B(GET), B("HTTP/1.1 200 OK\r\n\r\nhello"), NOT_REUSABLE_IN_EXCHANGE
};

/* ---- Keep-Alive: timeout and max ---- */

static const struct conversation keep_alive_timeout_and_max_are_parsed = {
	B(GET), B("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n"),
	true, HTTP1_HTTP, false, 5, 100
};

static const struct conversation keep_alive_header_name_and_parameters_are_case_insensitive = {
	B(GET), B("HTTP/1.1 200 OK\r\nkEEP-aLIVE: MAX=7,TIMEOUT=30\r\nContent-Length: 0\r\n\r\n"),
	true, HTTP1_HTTP, false, 30, 7
};

static const struct conversation keep_alive_max_0_is_not_reusable = {
	B(GET), B("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=0\r\nContent-Length: 0\r\n\r\n"),
	false, HTTP1_HTTP, false, 5, 0
};

/* An empty header value just before Keep-Alive must not glue the two
 * header names together. */
static const struct conversation keep_alive_after_empty_header_is_still_read = {
	B(GET), B("HTTP/1.1 200 OK\r\nX-Empty:\r\nKeep-Alive: max=0\r\nContent-Length: 0\r\n\r\n"),
	false, HTTP1_HTTP, false, -1, 0
};

/* Headers whose names merely begin like Keep-Alive are someone else's. */
static const struct conversation keep_alive_lookalike_headers_are_ignored = {
	B(GET), B("HTTP/1.1 200 OK\r\nKeep-Alive-X: max=0\r\nKeep-Aliv: max=0\r\n"
		  "Content-Length: 0\r\n\r\n"),
	REUSABLE
};

/* ---- what the tracker refuses to follow ---- */

static const struct conversation websocket_upgrade_is_unusable = {
	B("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
	B("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
	false, HTTP1_HTTP, true, -1, -1
};

static const struct conversation switching_protocols_101_to_plain_request_is_unusable = {
	B(GET), B("HTTP/1.1 101 Switching Protocols\r\n\r\n"), false, HTTP1_HTTP, true, -1, -1
};

static const struct conversation connect_is_unusable = {
	B("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
	B("HTTP/1.1 200 Connection Established\r\n\r\n"),
	false, HTTP1_HTTP, true, -1, -1
};

static const struct conversation unparsable_response_is_unusable = {
	B(GET), B("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), false, HTTP1_HTTP, true, -1, -1
};

/* ---- not HTTP at all: the first bytes decide ---- */

static const struct conversation tls_client_hello_is_not_http = {
	B("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"), B("\x16\x03\x03\x00\x31"), NOT_HTTP
};

static const struct conversation redis_ping_is_not_http = {
	B("PING\r\n"), B("+PONG\r\n"), NOT_HTTP
};

static const struct conversation smtp_ehlo_is_not_http = {
	B("EHLO x\r\n"), B("250 ok\r\n"), NOT_HTTP
};

static const struct conversation redis_resp_array_is_not_http = {
	B("*1\r\n$4\r\nPING\r\n"), B("+PONG\r\n"), NOT_HTTP
};

/* ---- incomplete and surplus messages ---- */

static const struct conversation incomplete_response_body_is_not_reusable = {
	B(GET), B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), NOT_REUSABLE_IN_EXCHANGE
};

static const struct conversation incomplete_request_is_not_reusable = {
	B("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab"), B(""),
	NOT_REUSABLE_IN_EXCHANGE
};

static const struct conversation two_pipelined_requests_both_answered_are_reusable = {
	B(GET GET), B(OK_5 OK_5), REUSABLE
};

static const struct conversation two_pipelined_requests_one_answered_are_not_reusable = {
	B(GET GET), B(OK_5), NOT_REUSABLE_IN_EXCHANGE
};

/* HTTP servers do not speak first: what does is something else. */
static const struct conversation response_without_request_is_not_http = {
	B(""), B(OK_5), NOT_HTTP
};

static const struct conversation unasked_second_response_is_not_reusable = {
	B(GET), B(OK_5 OK_5), NOT_REUSABLE
};

static const struct conversation partial_second_response_after_complete_one_is_not_reusable = {
	B(GET), B(OK_5 "HTTP/1.1 200"), NOT_REUSABLE
};

/* ---- behaviours that need a call between the bytes ---- */

static void feed_string_request(struct http1_tracker *t, const char *s)
{
	http1_feed_request(t, s, strlen(s));
}

static void feed_string_response(struct http1_tracker *t, const char *s)
{
	http1_feed_response(t, s, strlen(s));
}

static void test_eof_after_body_delimited_by_eof_is_still_not_reusable(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, GET);
	feed_string_response(&t, "HTTP/1.1 200 OK\r\n\r\nhello");
	http1_response_eof(&t);
	assert_false(http1_reusable(&t));
	assert_false(http1_in_exchange(&t));	/* EOF ended the message */
}

static void test_eof_after_complete_response_makes_it_unusable(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, GET);
	feed_string_response(&t, OK_5);
	assert_true(http1_reusable(&t));
	http1_response_eof(&t);
	assert_false(http1_reusable(&t));
}

static void test_eof_mid_body_is_not_reusable(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, GET);
	feed_string_response(&t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe");
	http1_response_eof(&t);
	assert_false(http1_reusable(&t));
}

static void test_give_up_makes_a_clean_conversation_unusable(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, GET);
	feed_string_response(&t, OK_5);
	http1_give_up(&t);
	assert_false(http1_reusable(&t));
}

/* Reuse: a second exchange on the same tracker is judged like the first;
 * the announced timeout is remembered, max is per response. */
static void test_second_exchange_keeps_timeout_and_resets_max(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, GET);
	feed_string_response(&t, "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=9, max=1\r\n"
			     "Content-Length: 0\r\n\r\n");
	assert_true(http1_reusable(&t));
	feed_string_request(&t, GET);
	assert_true(http1_in_exchange(&t));
	assert_false(http1_reusable(&t));
	feed_string_response(&t, OK_5);
	assert_true(http1_reusable(&t));
	assert_int_equal(t.keep_alive_timeout_s, 9);
	assert_int_equal(t.keep_alive_max, -1);
}

static void test_not_http_is_for_life(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, "PING\r\n");
	feed_string_request(&t, GET);
	feed_string_response(&t, OK_5);
	assert_int_equal(t.protocol, HTTP1_NOT_HTTP);
	assert_false(http1_reusable(&t));
}

/* conn.c counts requests (SP_REQUESTS) by requests_started: bytes that
 * turn out not to be HTTP must not have begun one, whatever their first
 * letter (P, as in PUT, here). */
static void test_not_http_bytes_never_begin_a_request(void **state)
{
	static const char *const firsts[] = { "PING\r\n", "P", "HELO x\r\n", "GETX / HTTP/1.1\r\n" };

	(void)state;
	for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		struct http1_tracker t;

		http1_init(&t);
		feed_string_request(&t, firsts[i]);
		feed_string_request(&t, "\x16\x03\x01");
		assert_int_equal(t.protocol, HTTP1_NOT_HTTP);
		assert_int_equal(t.requests_started, 0);
		assert_false(http1_in_exchange(&t));
	}
}

static void test_garbage_after_a_good_request_is_unusable_but_still_http(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, GET "\x16\x03\x01");
	feed_string_response(&t, OK_5);
	assert_int_equal(t.protocol, HTTP1_HTTP);
	assert_false(http1_reusable(&t));
}

/* The fast path takes a plain head whole and counts its body (what is
 * still to come is in fast_body_left); a chunked one it leaves to
 * http-parser.  Either way the verdict is the one the conversation tests
 * above check for both paths. */
static void test_fast_path_takes_plain_heads_and_leaves_the_rest(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, GET);
	feed_string_response(&t, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 10\r\n"
			     "Keep-Alive: timeout=7\r\n\r\nabc");
	assert_int_equal(t.fast_body_left, 7);
	assert_int_equal(t.keep_alive_timeout_s, 7);
	feed_string_response(&t, "defghij");
	assert_int_equal(t.fast_body_left, 0);
	assert_true(http1_reusable(&t));

	http1_init(&t);
	feed_string_request(&t, GET);
	feed_string_response(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc");
	assert_int_equal(t.fast_body_left, 0);
	assert_true(t.response_in_message);
	feed_string_response(&t, "\r\n0\r\n\r\n");
	assert_true(http1_reusable(&t));
}

/* The fast path checks header values eight bytes at a time: a byte that
 * is not printable ASCII (a tab, which is allowed, a control, 0x7f, a high
 * byte) at every place in a word, and names in any case, get the verdict
 * http-parser alone gives. */
static void test_fast_path_agrees_at_every_byte_of_a_value(void **state)
{
	static const char odd[] = { '\t', 0x01, 0x7f, (char)0x80, (char)0xff, 'A' };
	static const char *const names[] = { "X-Value", "CONNECTION", "Connection",
					     "content-LENGTH" };

	(void)state;
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		for (size_t b = 0; b < sizeof(odd); b++) {
			for (size_t at = 0; at < 20; at++) {
				char resp[256], value[32];
				bool verdict[2];

				memset(value, 'k', sizeof(value));
				memcpy(value, "keep-alive", 10);
				value[at] = odd[b];
				value[20] = '\0';
				snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n%s: %s\r\n%s\r\n\r\nabc",
					 names[n], value,
					 strcmp(names[n], "content-LENGTH") == 0 ? "X-Length: 3" :
					 "Content-Length: 3");
				for (int fast = 0; fast <= 1; fast++) {
					struct http1_tracker t;

					http1_fast_path = fast;
					http1_init(&t);
					feed_string_request(&t, GET);
					feed_string_response(&t, resp);
					verdict[fast] = http1_reusable(&t);
				}
				http1_fast_path = true;
				if (verdict[0] != verdict[1])
					fail_msg("%s with byte 0x%02x at %zu: reusable %d, %d with "
						 "http-parser alone", names[n],
						 (unsigned char)odd[b], at, verdict[1], verdict[0]);
			}
		}
	}
}

/* The same on the request side: a plain POST's head is taken whole and
 * its body counted; a keyed POST is replay-safe, an unkeyed one not. */
static void test_fast_path_takes_plain_requests(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_request(&t, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nab");
	assert_int_equal(t.fast_request_body_left, 4);
	assert_int_equal(t.protocol, HTTP1_HTTP);
	assert_true(t.request_in_message);
	feed_string_request(&t, "cdef");
	assert_false(t.request_in_message);
	assert_int_equal(t.requests_done, 1);
	assert_false(http1_outstanding_replay_safe(&t));

	http1_init(&t);
	feed_string_request(&t, "POST /a HTTP/1.1\r\nIdempotency-Key: k1\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(t.requests_done, 1);
	assert_true(http1_outstanding_replay_safe(&t));
	feed_string_response(&t, OK_5);
	assert_true(http1_reusable(&t));
}

/* Pipelining is followed up to HTTP1_MAX_OUTSTANDING requests awaiting
 * answers; one more and the tracker gives up rather than lose a method. */
static void pipeline(struct http1_tracker *t, const char *request, unsigned n)
{
	http1_init(t);
	for (unsigned i = 0; i < n; i++)
		feed_string_request(t, request);
	for (unsigned i = 0; i < n; i++)
		feed_string_response(t, OK_5);
}

static void test_pipeline_up_to_the_outstanding_limit_is_followed(void **state)
{
	struct http1_tracker t;

	(void)state;
	pipeline(&t, GET, HTTP1_MAX_OUTSTANDING);
	assert_true(http1_reusable(&t));
	pipeline(&t, GET, HTTP1_MAX_OUTSTANDING + 1);
	assert_false(http1_reusable(&t));
}

/* The method ring wraps: after many sequential exchanges a HEAD is still
 * matched to its own response. */
static void test_head_is_matched_after_the_method_ring_wraps(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	for (unsigned i = 0; i < 3 * HTTP1_MAX_OUTSTANDING + 1; i++) {
		feed_string_request(&t, GET);
		feed_string_response(&t, OK_5);
	}
	feed_string_request(&t, "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n");
	feed_string_response(&t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
	assert_true(http1_reusable(&t));
}

static void test_fresh_tracker_is_undecided_and_not_reusable(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	assert_int_equal(t.protocol, HTTP1_UNDECIDED);
	assert_false(http1_reusable(&t));
	assert_false(http1_in_exchange(&t));
	assert_int_equal(t.keep_alive_timeout_s, -1);
	assert_int_equal(t.keep_alive_max, -1);
}

/* Bytes arriving before any request: HTTP servers do not speak first, so
 * whatever follows cannot be trusted to be at a message boundary. */
static void test_response_bytes_before_any_request_spoil_the_connection(void **state)
{
	struct http1_tracker t;

	(void)state;
	http1_init(&t);
	feed_string_response(&t, OK_5);
	feed_string_request(&t, GET);
	feed_string_response(&t, OK_5);
	assert_false(http1_reusable(&t));
}

/* ---- the Connection: close rewrite ---- */

static const char *rewritten(const char *request)
{
	static char out[1024];
	size_t header_len = 0;
	size_t n = http1_rewrite_keep_alive(request, strlen(request), out, sizeof(out) - 1,
					    &header_len);

	if (n == 0)
		return NULL;
	out[n] = '\0';
	return out;
}

static void test_rewrite_drops_connection_close_from_http11(void **state)
{
	(void)state;
	assert_string_equal(rewritten("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				      "Accept: */*\r\n\r\n"),
			    "GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
	assert_string_equal(rewritten("GET /a HTTP/1.1\r\nconnection:  CLOSE \r\n\r\n"),
			    "GET /a HTTP/1.1\r\n\r\n");
}

/* LWP sends "Connection: TE, close": the other tokens stay. */
static void test_rewrite_keeps_other_connection_tokens(void **state)
{
	(void)state;
	assert_string_equal(rewritten("GET / HTTP/1.1\r\nTE: gzip\r\nConnection: TE, close\r\n\r\n"),
			    "GET / HTTP/1.1\r\nTE: gzip\r\nConnection: TE\r\n\r\n");
	assert_string_equal(rewritten("GET / HTTP/1.0\r\nConnection: TE,close\r\n\r\n"),
			    "GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n");
}

static void test_rewrite_asks_http10_to_keep_alive(void **state)
{
	(void)state;
	assert_string_equal(rewritten("GET / HTTP/1.0\r\nHost: x\r\n\r\n"),
			    "GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
	assert_string_equal(rewritten("GET / HTTP/1.0\r\nConnection: close\r\n\r\n"),
			    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
}

/* Nothing to do, or something the rewrite could change the meaning of. */
static void test_rewrite_leaves_other_requests_alone(void **state)
{
	(void)state;
	assert_null(rewritten("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_null(rewritten("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
	assert_null(rewritten("GET / HTTP/1.1\r\nConnection: close, Upgrade\r\n\r\n"));
	assert_null(rewritten("GET / HTTP/1.1\r\nConnection: TE\r\n\r\n"));
	assert_null(rewritten("GET / HTTP/1.1\r\nConnection: close\r\nUpgrade: ws\r\n\r\n"));
	assert_null(rewritten("GET / HTTP/1.1\r\nConnection: close\r\n"));	/* incomplete */
	assert_null(rewritten("GET / HTTP/2.0\r\nConnection: close\r\n\r\n"));
}

/* The body after the headers is not part of what is rewritten. */
static void test_rewrite_reports_the_header_length(void **state)
{
	static const char req[] = "POST / HTTP/1.1\r\nConnection: close\r\n"
				  "Content-Length: 2\r\n\r\nhi";
	char out[256];
	size_t header_len = 0;

	(void)state;
	assert_true(http1_rewrite_keep_alive(req, strlen(req), out, sizeof(out), &header_len) > 0);
	assert_int_equal(header_len, strlen(req) - 2);
	assert_int_equal(http1_rewrite_keep_alive(req, strlen(req), out, 10, &header_len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite_drops_connection_close_from_http11),
		cmocka_unit_test(test_rewrite_asks_http10_to_keep_alive),
		cmocka_unit_test(test_rewrite_keeps_other_connection_tokens),
		cmocka_unit_test(test_rewrite_leaves_other_requests_alone),
		cmocka_unit_test(test_rewrite_reports_the_header_length),
		cmocka_unit_test(test_fresh_tracker_is_undecided_and_not_reusable),
		CONVERSATION_TEST(get_answered_with_content_length_is_reusable),
		CONVERSATION_TEST(get_answered_with_chunks_and_trailers_is_reusable),
		CONVERSATION_TEST(post_with_chunked_body_answered_is_reusable),
		CONVERSATION_TEST(post_with_unfinished_chunked_body_is_not_reusable),
		CONVERSATION_TEST(head_response_has_no_body_and_next_pipelined_get_is_read),
		CONVERSATION_TEST(head_response_alone_is_reusable_after_headers),
		CONVERSATION_TEST(head_response_without_length_is_reusable),
		CONVERSATION_TEST(head_pipelined_after_get_is_matched_to_its_response),
		CONVERSATION_TEST(head_response_announcing_chunks_has_no_body),
		CONVERSATION_TEST(continue_100_before_final_response_is_reusable),
		CONVERSATION_TEST(continue_100_alone_leaves_exchange_open),
		CONVERSATION_TEST(early_hints_103_before_final_response_is_reusable),
		CONVERSATION_TEST(no_content_204_has_no_body),
		CONVERSATION_TEST(no_content_204_with_content_length_has_no_body),
		CONVERSATION_TEST(not_modified_304_has_no_body),
		CONVERSATION_TEST(not_modified_304_with_content_length_has_no_body),
		CONVERSATION_TEST(http10_request_without_keep_alive_is_not_reusable),
		CONVERSATION_TEST(http10_keep_alive_on_both_sides_is_reusable),
		CONVERSATION_TEST(http10_response_without_keep_alive_is_not_reusable),
		CONVERSATION_TEST(request_connection_close_is_not_reusable),
		CONVERSATION_TEST(response_connection_close_is_not_reusable),
		CONVERSATION_TEST(response_delimited_by_eof_is_not_reusable),
		CONVERSATION_TEST(keep_alive_timeout_and_max_are_parsed),
		CONVERSATION_TEST(keep_alive_header_name_and_parameters_are_case_insensitive),
		CONVERSATION_TEST(keep_alive_max_0_is_not_reusable),
		CONVERSATION_TEST(keep_alive_after_empty_header_is_still_read),
		CONVERSATION_TEST(keep_alive_lookalike_headers_are_ignored),
		CONVERSATION_TEST(websocket_upgrade_is_unusable),
		CONVERSATION_TEST(switching_protocols_101_to_plain_request_is_unusable),
		CONVERSATION_TEST(connect_is_unusable),
		CONVERSATION_TEST(unparsable_response_is_unusable),
		CONVERSATION_TEST(tls_client_hello_is_not_http),
		CONVERSATION_TEST(redis_ping_is_not_http),
		CONVERSATION_TEST(smtp_ehlo_is_not_http),
		CONVERSATION_TEST(redis_resp_array_is_not_http),
		CONVERSATION_TEST(incomplete_response_body_is_not_reusable),
		CONVERSATION_TEST(incomplete_request_is_not_reusable),
		CONVERSATION_TEST(two_pipelined_requests_both_answered_are_reusable),
		CONVERSATION_TEST(two_pipelined_requests_one_answered_are_not_reusable),
		CONVERSATION_TEST(response_without_request_is_not_http),
		CONVERSATION_TEST(unasked_second_response_is_not_reusable),
		CONVERSATION_TEST(partial_second_response_after_complete_one_is_not_reusable),
		cmocka_unit_test(test_eof_after_body_delimited_by_eof_is_still_not_reusable),
		cmocka_unit_test(test_eof_after_complete_response_makes_it_unusable),
		cmocka_unit_test(test_eof_mid_body_is_not_reusable),
		cmocka_unit_test(test_give_up_makes_a_clean_conversation_unusable),
		cmocka_unit_test(test_second_exchange_keeps_timeout_and_resets_max),
		cmocka_unit_test(test_not_http_is_for_life),
		cmocka_unit_test(test_not_http_bytes_never_begin_a_request),
		cmocka_unit_test(test_garbage_after_a_good_request_is_unusable_but_still_http),
		cmocka_unit_test(test_fast_path_takes_plain_heads_and_leaves_the_rest),
		cmocka_unit_test(test_fast_path_takes_plain_requests),
		cmocka_unit_test(test_fast_path_agrees_at_every_byte_of_a_value),
		cmocka_unit_test(test_pipeline_up_to_the_outstanding_limit_is_followed),
		cmocka_unit_test(test_head_is_matched_after_the_method_ring_wraps),
		cmocka_unit_test(test_response_bytes_before_any_request_spoil_the_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
