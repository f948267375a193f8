/*
 * test_response_close.c: the response head of a rewritten exchange says
 * "close" (src/core/response_close.h).
 *
 * Each case is a response as the server sent it and as the program must
 * read it, checked fed whole, cut in two at every offset, and one byte at
 * a time: the program's reads may split the head anywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sys_libc.h"
#include "../../src/core/response_close.h"

struct rewrite_case {
	const char *sent;	/* by the server */
	const char *read;	/* by the program */
	bool head_done;		/* the final head was passed */
};

static void check_cut(const struct rewrite_case *t, size_t cut)
{
	size_t len = strlen(t->sent);
	char *buf = malloc(len + 1);
	struct response_close rc;

	assert_non_null(buf);
	memcpy(buf, t->sent, len + 1);
	response_close_init(&rc);
	response_close_apply(&rc, buf, cut);
	response_close_apply(&rc, buf + cut, len - cut);
	assert_string_equal(buf, t->read);
	assert_int_equal(response_close_done(&rc), t->head_done);
	free(buf);
}

static void check_bytewise(const struct rewrite_case *t)
{
	size_t len = strlen(t->sent);
	char *buf = malloc(len + 1);
	struct response_close rc;

	assert_non_null(buf);
	memcpy(buf, t->sent, len + 1);
	response_close_init(&rc);
	for (size_t i = 0; i < len; i++)
		response_close_apply(&rc, buf + i, 1);
	assert_string_equal(buf, t->read);
	free(buf);
}

static void check(const struct rewrite_case *t)
{
	assert_int_equal(strlen(t->sent), strlen(t->read));	/* nothing moves */
	for (size_t cut = 0; cut <= strlen(t->sent); cut++)
		check_cut(t, cut);
	check_bytewise(t);
}

static void test_keep_alive_becomes_close_of_the_same_length(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: keep-alive\r\n"
		"Content-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection:close      \r\n"
		"Content-Length: 5\r\n\r\nhello", true });
}

static void test_keep_alive_announcement_is_blanked(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5, max=100\r\n"
		"CONNECTION: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nKeep-Alive:                   \r\n"
		"CONNECTION:close      \r\nContent-Length: 0\r\n\r\n", true });
}

static void test_close_stays_close(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection:close \r\nContent-Length: 0\r\n\r\n", true });
}

static void test_body_and_other_headers_are_untouched(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.1 200 OK\r\nX-Connection: keep-alive\r\nConnections: 4\r\n"
		"Content-Length: 24\r\n\r\nConnection: keep-alive\r\n",
		"HTTP/1.1 200 OK\r\nX-Connection: keep-alive\r\nConnections: 4\r\n"
		"Content-Length: 24\r\n\r\nConnection: keep-alive\r\n", true });
}

static void test_interim_response_is_passed_over_to_the_final_head(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
		"Connection: keep-alive\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
		"Connection:close      \r\n\r\n", true });
}

static void test_folded_value_is_blanked_too(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n\tupgrade\r\nA: b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection:close       \r\n        \r\nA: b\r\n\r\n", true });
}

static void test_bare_lf_heads_are_followed(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.1 200 OK\nConnection: keep-alive\n\nbody",
		"HTTP/1.1 200 OK\nConnection:close      \n\nbody", true });
}

static void test_unfinished_head_is_not_done(void **state)
{
	(void)state;
	check(&(struct rewrite_case){
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n",
		"HTTP/1.1 200 OK\r\nConnection:close      \r\n", false });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_alive_becomes_close_of_the_same_length),
		cmocka_unit_test(test_keep_alive_announcement_is_blanked),
		cmocka_unit_test(test_close_stays_close),
		cmocka_unit_test(test_body_and_other_headers_are_untouched),
		cmocka_unit_test(test_interim_response_is_passed_over_to_the_final_head),
		cmocka_unit_test(test_folded_value_is_blanked_too),
		cmocka_unit_test(test_bare_lf_heads_are_followed),
		cmocka_unit_test(test_unfinished_head_is_not_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
