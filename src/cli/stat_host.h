/*
 * stat_host.h: the kernel's count of TCP sockets by state, for the host
 * line of sockpool-stat (what `netstat -nat | awk '{print $6}' | sort |
 * uniq -c` shows), read from /proc/net/tcp and /proc/net/tcp6.
 *
 * The parser is fed bytes in chunks of any size, so that it needs no
 * buffer beyond one bounded line and a fuzz target can drive it
 * (tests/fuzz/fuzz_tcp_states.c).
 */
#ifndef SOCKPOOL_CLI_STAT_HOST_H
#define SOCKPOOL_CLI_STAT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's TCP states, numbered as in include/net/tcp_states.h and
 * as the "st" column of /proc/net/tcp shows them (in hex). */
#define HOST_TCP_STATE_MAX 12u

/* A line longer than this is not one the kernel writes (150 bytes). */
#define HOST_TCP_LINE_MAX 512u
/* Lines read per file at most: a host with more sockets than this shows
 * the count so far, marked as cut. */
#define HOST_TCP_LINES_MAX 8000000u

struct host_tcp {
	uint64_t state[HOST_TCP_STATE_MAX + 1];	/* index: the state number */
	uint64_t unparsed;	/* lines that are not a socket of a known state */
	bool cut;		/* HOST_TCP_LINES_MAX was reached */
};

struct host_tcp_parser {
	struct host_tcp *counts;
	char line[HOST_TCP_LINE_MAX];
	size_t len;		/* bytes in line */
	bool overlong;		/* the current line passed HOST_TCP_LINE_MAX */
	bool header_done;	/* the first line (column names) was skipped */
	uint64_t lines;
};

/* Starts parsing one file's contents into *counts (which it adds to). */
void host_tcp_parser_init(struct host_tcp_parser *p, struct host_tcp *counts);

/* Feeds len bytes; false once the line limit is reached (stop reading). */
bool host_tcp_parser_feed(struct host_tcp_parser *p, const char *buf, size_t len);

/* Ends the file: a last line without a newline is counted too. */
void host_tcp_parser_finish(struct host_tcp_parser *p);

/* Reads /proc/net/tcp and tcp6 (of our network namespace) into *out.
 * 0, or -1 with a reason in err when neither could be read; a missing
 * tcp6 (no IPv6) is not an error. */
int host_tcp_read(struct host_tcp *out, char *err, size_t errlen);

/* "ESTABLISHED", ...; NULL for a number that is no state. */
const char *host_tcp_state_name(unsigned state);

#endif
