/*
 * stat_host.c: counts the host's TCP sockets by state (see stat_host.h).
 *
 * Why /proc/net/tcp{,6} and not sock_diag netlink: the files are readable
 * by every user in every container, need no socket of a special family
 * (which seccomp profiles may refuse), and are what netstat itself reads,
 * so the figures match the command people already know.  The price is
 * text formatting in the kernel, about 150 bytes per socket: at 100,000
 * sockets a look costs some tens of milliseconds, which a refresh every
 * second can afford.  Netlink would be cheaper on hosts with millions of
 * sockets; HOST_TCP_LINES_MAX bounds the work there instead.
 *
 * Each line is "sl local rem st ...": the fourth field, two hex digits,
 * is the state.  The file is read in fixed chunks and parsed a line at a
 * time in a fixed buffer; nothing about it is trusted (a line too long, a
 * field missing, a state out of range is counted as unparsed).
 */
#include "stat_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const state_names[HOST_TCP_STATE_MAX + 1] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
	[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
	[7] = "CLOSE", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
};

const char *host_tcp_state_name(unsigned state)
{
	return state <= HOST_TCP_STATE_MAX ? state_names[state] : NULL;
}

void host_tcp_parser_init(struct host_tcp_parser *p, struct host_tcp *counts)
{
	*p = (struct host_tcp_parser){ .counts = counts };
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The state of one line of len bytes, or -1 when it is not a socket
 * line: the fourth field must be exactly two hex digits naming a state. */
static int line_state(const char *line, size_t len)
{
	size_t i = 0, start;
	int hi, lo;

	for (int field = 0; field < 3; field++) {
		while (i < len && is_space(line[i]))
			i++;
		start = i;
		while (i < len && !is_space(line[i]))
			i++;
		if (i == start)
			return -1;
	}
	while (i < len && is_space(line[i]))
		i++;
	if (len - i < 2 || (len - i > 2 && !is_space(line[i + 2])))
		return -1;
	hi = hex_digit(line[i]);
	lo = hex_digit(line[i + 1]);
	if (hi < 0 || lo < 0 || hi * 16 + lo == 0 ||
	    host_tcp_state_name((unsigned)(hi * 16 + lo)) == NULL)
		return -1;
	return hi * 16 + lo;
}

/* One whole line is in p->line (or was too long). */
static void end_line(struct host_tcp_parser *p)
{
	int state;

	if (!p->header_done) {
		p->header_done = true;	/* "  sl  local_address rem_address   st ..." */
	} else if (p->overlong || (state = line_state(p->line, p->len)) < 0) {
		p->counts->unparsed++;
	} else {
		p->counts->state[state]++;
	}
	p->lines++;
	p->len = 0;
	p->overlong = false;
}

bool host_tcp_parser_feed(struct host_tcp_parser *p, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p->lines >= HOST_TCP_LINES_MAX) {
			p->counts->cut = true;
			return false;
		}
		if (buf[i] == '\n')
			end_line(p);
		else if (p->len < sizeof(p->line))
			p->line[p->len++] = buf[i];
		else
			p->overlong = true;
	}
	return true;
}

void host_tcp_parser_finish(struct host_tcp_parser *p)
{
	if ((p->len > 0 || p->overlong) && p->lines < HOST_TCP_LINES_MAX)
		end_line(p);
}

/* Adds the counts of one file.  0, or -1 with errno set. */
static int read_proc_file(const char *path, struct host_tcp *out)
{
	struct host_tcp_parser p;
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	host_tcp_parser_init(&p, out);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0 || !host_tcp_parser_feed(&p, chunk, (size_t)n))
			break;
	}
	host_tcp_parser_finish(&p);
	close(fd);
	return 0;
}

int host_tcp_read(struct host_tcp *out, char *err, size_t errlen)
{
	*out = (struct host_tcp){ 0 };
	if (read_proc_file("/proc/net/tcp", out) != 0) {
		snprintf(err, errlen, "/proc/net/tcp: %s", strerror(errno));
		return -1;
	}
	/* No tcp6 on a kernel without IPv6: then there are no such sockets. */
	if (read_proc_file("/proc/net/tcp6", out) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "/proc/net/tcp6: %s", strerror(errno));
		return -1;
	}
	return 0;
}
