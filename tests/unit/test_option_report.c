/*
 * test_option_report.c: "not pooled because of socket option X"
 * (src/core/option_report.h) is counted every time, per destination and
 * for the process, and said at info level once per option per process,
 * naming the option; repeats go to debug level only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sys_libc.h"
#include "../../src/core/log.h"
#include "../../src/core/option_report.h"
#include "../../src/stats/stats_writer.h"

static char dir[64];
static int log_pipe[2];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sockpool-test-optreport.XXXXXX");
	if (mkdtemp(dir) == NULL || pipe2(log_pipe, O_NONBLOCK) != 0)
		return -1;
	return stats_writer_open(dir, "test");
}

static int teardown(void **state)
{
	(void)state;
	stats_writer_close(false);
	close(log_pipe[0]);
	close(log_pipe[1]);
	return rmdir(dir);
}

/* Everything logged since the last call. */
static const char *logged(void)
{
	static char text[8192];
	ssize_t n = read(log_pipe[0], text, sizeof(text) - 1);

	text[n > 0 ? n : 0] = '\0';
	return text;
}

static unsigned count_of(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static struct dest_key key_v4(uint16_t port)
{
	struct dest_key k = { .family = AF_INET, .port = port, .addr = { 127, 0, 0, 1 } };

	return k;
}

static void test_each_refusal_counts_and_each_option_is_said_once(void **state)
{
	struct dest_key a = key_v4(8080), b = key_v4(8081);
	struct sp_stats_dest *ra = stats_writer_dest(&a), *rb = stats_writer_dest(&b);
	struct conn_refused_option cork = { true, IPPROTO_TCP, TCP_CORK };
	struct conn_refused_option cc = { true, IPPROTO_TCP, TCP_CONGESTION };
	const char *text;

	(void)state;
	assert_non_null(ra);
	assert_non_null(rb);
	log_setup(LOG_LEVEL_INFO, log_pipe[1]);
	errno = EINPROGRESS;
	for (int i = 0; i < 3; i++)
		option_report_refused(&cork, 5, &a, ra);
	option_report_refused(&cork, 6, &b, rb);
	option_report_refused(&cc, 7, &b, rb);
	assert_int_equal(errno, EINPROGRESS);
	assert_int_equal(ra->counters.c[SP_NOT_POOLED_OPTION], 3);
	assert_int_equal(rb->counters.c[SP_NOT_POOLED_OPTION], 2);
	text = logged();
	assert_int_equal(count_of(text, "\n"), 2);
	assert_int_equal(count_of(text, "info: fd 5: connection to 127.0.0.1:8080 not pooled"), 1);
	assert_int_equal(count_of(text, "IPPROTO_TCP TCP_CORK"), 1);
	assert_int_equal(count_of(text, "IPPROTO_TCP TCP_CONGESTION"), 1);

	/* At debug level the repeats are there too, once each. */
	log_setup(LOG_LEVEL_DEBUG, log_pipe[1]);
	option_report_refused(&cork, 8, &a, ra);
	text = logged();
	assert_int_equal(count_of(text, "debug: fd 8: connection to 127.0.0.1:8080 not pooled"), 1);
	assert_int_equal(count_of(text, "\n"), 1);
	log_setup(LOG_LEVEL_WARN, 2);
	assert_int_equal(ra->counters.c[SP_NOT_POOLED_OPTION], 4);
}

static void test_options_are_named_or_numbered(void **state)
{
	char name[64];

	(void)state;
	option_report_name(IPPROTO_IPV6, IPV6_V6ONLY, name, sizeof(name));
	assert_string_equal(name, "IPPROTO_IPV6 IPV6_V6ONLY");
	option_report_name(SOL_SOCKET, SO_BINDTODEVICE, name, sizeof(name));
	assert_string_equal(name, "SOL_SOCKET SO_BINDTODEVICE");
	option_report_name(4242, 17, name, sizeof(name));
	assert_string_equal(name, "level 4242 option 17");
	option_report_name(IPPROTO_TCP, TCP_CONGESTION, name, 8);
	assert_string_equal(name, "IPPROTO");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_refusal_counts_and_each_option_is_said_once),
		cmocka_unit_test(test_options_are_named_or_numbered),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
