/*
 * naive_client.c: the anti-pattern from the field, on purpose.
 *
 *   naive_client [-n N] [-t T] [-e FILE] [-p MS] [-k [-s]] [-m METHOD] [-1] [-c] [-q] [-l]
 *                HOST PORT PATH
 *
 * Like many legacy clients, it opens a brand-new TCP connection for every
 * HTTP request: socket(), connect(), write() the request, read() the
 * response, close().  Under load this is what fills a machine with
 * TIME_WAIT sockets and runs it out of ephemeral ports, and it is exactly
 * the program sockpool exists for: run it as is, then under `sockpool --`,
 * and count the connections the server accepted.  So it is deliberately
 * plain: blocking sockets, no keep-alive, no library, address literals
 * only (inet_pton, no resolver), libc calls the shim interposes.
 *
 * It is also a strict witness: every response is parsed (status line,
 * Content-Length, chunked, HEAD/204/304, read to EOF), every body can be
 * compared byte for byte with a file (-e), and anything wrong counts as an
 * error.  -k gives the other end of the scale for benchmarks: one
 * keep-alive connection per thread for all its requests; -k -s adds the
 * socket(), setsockopt() and close() of the connect-per-request client,
 * which sockpool leaves to the program: the ceiling for it.
 *
 * Output: one line on stdout,
 *   requests=N ok=N errors=N seconds=S rps=R
 * and with -l (latency, for benchmarks across a slow network) also
 *   p50_us=N p99_us=N connects=N connect_p50_us=N
 * the time of each request as the client saw it (connect to end of the
 * response) and of each connection's set-up (socket() and connect(): on
 * a real network, one round trip for the TCP handshake);
 * each error on stderr (unless -q); exit status 0 when errors=0, else 1
 * (2 for a usage error).  Every socket has 10 s send and receive timeouts,
 * so a hung server gives an error, never a hang.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_S	10
#define LINE_MAX_BYTES	16384		/* longest status, header or chunk-size line */
#define HEADERS_MAX	200		/* header lines per response */
#define BODY_MAX_BYTES	(1UL << 30)	/* larger bodies are an error */

/* What every thread shares: the command line, read-only once threads run. */
struct options {
	long requests;
	int threads;
	long pause_ms;
	bool keep_alive, http10, send_close, quiet;
	bool spare_socket;	/* -s */
	bool latency;		/* -l */
	const char *method, *host, *path;
	int port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char request[8192];
	size_t request_len;
	char *expected;			/* -e: the body every response must have */
	size_t expected_len;
	bool have_expected;
	bool head;			/* method HEAD: responses have no body */
};

static struct options opt;

/* One connection and what has been read from it but not yet consumed. */
struct conn {
	int fd;
	char buf[65536];
	size_t start, end;
	unsigned long long received;	/* bytes read on this connection */
};

struct response {
	int status, minor_version;
	bool chunked, has_length, conn_close, conn_keep_alive;
	unsigned long long length;
	char *body;			/* body as received, decoded if chunked */
	size_t body_len, body_cap;
};

struct worker {
	pthread_t thread;
	int id;
	long requests;
	long ok, errors;
	/* -l: nanoseconds per request and per connection set-up */
	unsigned long long *request_ns, *connect_ns;
	long request_count, connect_count, connect_cap;
};

static void error_report(const struct worker *w, long req, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_report(const struct worker *w, long req, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (opt.quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "naive_client: thread %d request %ld: %s\n", w->id, req + 1, msg);
}

/* A failure that is not a system call's: the reason, and errno 0. */
static int fail_because(const char **why, const char *reason)
{
	*why = reason;
	errno = 0;
	return -1;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

/* ---- connection I/O -------------------------------------------------- */

/* A 10 s SO_SNDTIMEO also bounds connect(): it then fails with EINPROGRESS. */
static int conn_open(struct conn *c)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int fd = socket(opt.addr.ss_family, SOCK_STREAM, 0);
	int saved;

	c->start = c->end = 0;
	c->received = 0;
	c->fd = -1;
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&opt.addr, opt.addrlen) != 0) {
		saved = errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		errno = saved;
		return -1;
	}
	c->fd = fd;
	return 0;
}

/* -s: the calls a connect-per-request client makes besides its request,
 * on a socket that is never connected. */
static void spare_socket_calls(void)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int fd = socket(opt.addr.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	close(fd);
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			errno = ETIMEDOUT;	/* SO_SNDTIMEO ran out */
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more into c->buf.  1: got bytes, 0: EOF, -1: error (errno). */
static int conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->start > 0 && c->start == c->end)
		c->start = c->end = 0;
	if (c->end == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	do
		n = read(c->fd, c->buf + c->end, sizeof(c->buf) - c->end);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			errno = ETIMEDOUT;
		return -1;
	}
	c->end += (size_t)n;
	c->received += (unsigned long long)n;
	return n > 0;
}

/* One line without its CRLF (or LF), NUL-terminated in line[].  0 or -1 with
 * a reason in *why. */
static int conn_read_line(struct conn *c, char *line, size_t cap, const char **why)
{
	for (;;) {
		char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (c->buf + c->start));

			if (len >= cap)
				return fail_because(why, "line too long");
			memcpy(line, c->buf + c->start, len);
			if (len > 0 && line[len - 1] == '\r')
				len--;
			line[len] = '\0';
			c->start += (size_t)(nl - (c->buf + c->start)) + 1;
			return 0;
		}
		if (c->end - c->start >= cap)
			return fail_because(why, "line too long");
		switch (conn_fill(c)) {
		case 0:
			return fail_because(why, "connection closed by the server");
		case -1:
			return *why = "read failed", -1;
		}
	}
}

static int body_append(struct response *r, const char *p, size_t len)
{
	if (r->body_len + len > BODY_MAX_BYTES)
		return -1;
	if (r->body_len + len > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 65536;
		char *grown;

		while (cap < r->body_len + len)
			cap *= 2;
		grown = realloc(r->body, cap);
		if (grown == NULL)
			return -1;
		r->body = grown;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, len);
	r->body_len += len;
	return 0;
}

/* Moves len body bytes (or, with to_eof, all until EOF) into r->body. */
static int conn_read_body(struct conn *c, struct response *r, unsigned long long len,
			  bool to_eof, const char **why)
{
	while (to_eof || len > 0) {
		size_t have = c->end - c->start;
		size_t take = to_eof || have < len ? have : (size_t)len;

		if (take > 0) {
			if (body_append(r, c->buf + c->start, take) != 0)
				return fail_because(why, "body too large");
			c->start += take;
			len -= to_eof ? 0 : take;
			continue;
		}
		switch (conn_fill(c)) {
		case 0:
			if (to_eof)
				return 0;
			return fail_because(why, "connection closed in the middle of the body");
		case -1:
			return *why = "read failed in the body", -1;
		}
	}
	return 0;
}

/* ---- HTTP/1.x response parsing ------------------------------------- */

static bool has_token(const char *value, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = value; (p = strcasestr(p, token)) != NULL; p += n) {
		bool starts = p == value || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t';
		char after = p[n];

		if (starts && (after == '\0' || after == ',' || after == ' ' || after == '\t' || after == ';'))
			return true;
	}
	return false;
}

static int parse_header(struct response *r, char *line, const char **why)
{
	char *colon = strchr(line, ':');
	char *value, *end;

	if (colon == NULL || colon == line)
		return fail_because(why, "malformed header line");
	*colon = '\0';
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (strcasecmp(line, "Content-Length") == 0) {
		errno = 0;
		r->length = strtoull(value, &end, 10);
		if (errno != 0 || end == value || *value == '-')
			return fail_because(why, "bad Content-Length");
		r->has_length = true;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		r->chunked = has_token(value, "chunked");
	} else if (strcasecmp(line, "Connection") == 0) {
		r->conn_close |= has_token(value, "close");
		r->conn_keep_alive |= has_token(value, "keep-alive");
	}
	return 0;
}

/* "HTTP/1.x NNN reason" */
static int parse_status_line(const char *line, struct response *r)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) || line[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++) {
		if (!isdigit((unsigned char)line[i]))
			return -1;
	}
	if (line[12] != ' ' && line[12] != '\0')
		return -1;
	r->minor_version = line[7] - '0';
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return r->status >= 100 ? 0 : -1;
}

/* Status line and headers of one response; skips interim 1xx responses. */
static int read_head(struct conn *c, struct response *r, const char **why)
{
	char line[LINE_MAX_BYTES];
	int headers;

	do {
		r->chunked = r->has_length = r->conn_close = r->conn_keep_alive = false;
		r->length = 0;
		if (conn_read_line(c, line, sizeof(line), why) != 0)
			return -1;
		if (parse_status_line(line, r) != 0)
			return fail_because(why, "malformed status line");
		for (headers = 0;; headers++) {
			if (headers > HEADERS_MAX)
				return fail_because(why, "too many header lines");
			if (conn_read_line(c, line, sizeof(line), why) != 0)
				return -1;
			if (line[0] == '\0')
				break;
			if (parse_header(r, line, why) != 0)
				return -1;
		}
	} while (r->status >= 100 && r->status < 200 && r->status != 101);
	return 0;
}

static int read_chunked_body(struct conn *c, struct response *r, const char **why)
{
	char line[LINE_MAX_BYTES];

	for (;;) {
		char *end;
		unsigned long long size;

		if (conn_read_line(c, line, sizeof(line), why) != 0)
			return -1;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (errno != 0 || end == line || (*end != '\0' && *end != ';' && *end != ' '))
			return fail_because(why, "bad chunk size");
		if (size > BODY_MAX_BYTES)
			return fail_because(why, "chunk too large");
		if (size == 0)
			break;
		if (conn_read_body(c, r, size, false, why) != 0)
			return -1;
		if (conn_read_line(c, line, sizeof(line), why) != 0)
			return -1;
		if (line[0] != '\0')
			return fail_because(why, "chunk not followed by CRLF");
	}
	/* Trailer fields, up to the empty line. */
	for (int i = 0; i <= HEADERS_MAX; i++) {
		if (conn_read_line(c, line, sizeof(line), why) != 0)
			return -1;
		if (line[0] == '\0')
			return 0;
	}
	return fail_because(why, "too many trailer lines");
}

/* Reads a whole response.  *reusable says whether the connection may carry
 * another request. */
static int read_response(struct conn *c, struct response *r, bool *reusable,
			 const char **why)
{
	bool bodyless;
	bool keep;

	r->body_len = 0;
	if (read_head(c, r, why) != 0)
		return -1;
	keep = r->minor_version >= 1 ? !r->conn_close : r->conn_keep_alive && !r->conn_close;
	bodyless = opt.head || r->status == 204 || r->status == 304;
	if (bodyless) {
		*reusable = keep;
		return 0;
	}
	if (r->chunked) {
		*reusable = keep;
		return read_chunked_body(c, r, why);
	}
	if (r->has_length) {
		*reusable = keep;
		return conn_read_body(c, r, r->length, false, why);
	}
	*reusable = false;
	return conn_read_body(c, r, 0, true, why);
}

/* ---- one request ------------------------------------------------------ */

static int check_response(const struct response *r, const char **why, char *detail,
			  size_t detail_len)
{
	if (r->status < 200 || r->status > 299) {
		snprintf(detail, detail_len, "HTTP status %d", r->status);
		return *why = detail, -1;
	}
	if (!opt.have_expected)
		return 0;
	if (opt.head) {
		if (r->has_length && r->length != opt.expected_len) {
			snprintf(detail, detail_len, "HEAD: Content-Length %llu, expected %zu",
				 r->length, opt.expected_len);
			return *why = detail, -1;
		}
		return 0;
	}
	if (r->body_len != opt.expected_len) {
		snprintf(detail, detail_len, "body of %zu bytes, expected %zu",
			 r->body_len, opt.expected_len);
		return *why = detail, -1;
	}
	if (memcmp(r->body, opt.expected, r->body_len) != 0) {
		size_t i = 0;

		while (r->body[i] == opt.expected[i])
			i++;
		snprintf(detail, detail_len, "body differs from the expected one at byte %zu", i);
		return *why = detail, -1;
	}
	return 0;
}

/* One request on c (opened here if not open).  In keep-alive mode c stays
 * open for the next request when the server allows it; otherwise it is
 * closed, as a naive client does.  A kept-alive connection that the server
 * closed before answering is the server's right: retried once, fresh. */
static int do_request(struct worker *w, long req, struct conn *c, struct response *r)
{
	const char *why = NULL;
	char detail[160];
	bool reusable = false;

	unsigned long long started = opt.latency ? now_ns() : 0;

	if (opt.spare_socket)
		spare_socket_calls();
	for (int attempt = 0;; attempt++) {
		bool reused = c->fd >= 0;
		bool answered = false;

		if (c->fd < 0) {
			unsigned long long t = opt.latency ? now_ns() : 0;

			if (conn_open(c) != 0) {
				why = "connect failed";
				goto fail;
			}
			if (opt.latency && w->connect_count < w->connect_cap)
				w->connect_ns[w->connect_count++] = now_ns() - t;
		}
		if (write_all(c->fd, opt.request, opt.request_len) != 0) {
			why = "write failed";
		} else {
			unsigned long long before = c->received;
			bool buffered = c->end > c->start;

			if (read_response(c, r, &reusable, &why) == 0)
				break;
			answered = buffered || c->received != before;
		}
		if (!reused || answered || attempt > 0)
			goto fail;
		conn_close(c);
	}
	if (!opt.keep_alive || !reusable)
		conn_close(c);
	if (check_response(r, &why, detail, sizeof(detail)) != 0) {
		errno = 0;
		goto fail;
	}
	w->ok++;
	if (opt.latency)
		w->request_ns[w->request_count++] = now_ns() - started;
	return 0;
fail:
	if (errno != 0)
		error_report(w, req, "%s: %s", why, strerror(errno));
	else
		error_report(w, req, "%s", why);
	conn_close(c);
	w->errors++;
	return -1;
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct conn *c = malloc(sizeof(*c));
	struct response r = { 0 };

	if (c == NULL) {
		w->errors = w->requests;
		return NULL;
	}
	c->fd = -1;
	if (opt.latency) {
		/* a request opens at most two connections (one retry) */
		w->connect_cap = 2 * w->requests;
		w->request_ns = malloc((size_t)w->requests * sizeof(*w->request_ns));
		w->connect_ns = malloc((size_t)w->connect_cap * sizeof(*w->connect_ns));
		if (w->request_ns == NULL || w->connect_ns == NULL) {
			w->errors = w->requests;
			free(c);
			return NULL;
		}
	}
	for (long i = 0; i < w->requests; i++) {
		if (i > 0 && opt.pause_ms > 0)
			pause_ms(opt.pause_ms);
		do_request(w, i, c, &r);
	}
	conn_close(c);
	free(c);
	free(r.body);
	return NULL;
}

/* ---- command line --------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: naive_client [options] HOST PORT PATH\n"
		"  one new TCP connection per HTTP request (the anti-pattern sockpool fixes)\n"
		"  HOST is an IPv4 or IPv6 address literal\n"
		"  -n N       requests in all (default 100)\n"
		"  -t T       threads sharing them (default 1)\n"
		"  -e FILE    every body must equal FILE byte for byte\n"
		"  -p MS      pause before each request after a thread's first (default 0)\n"
		"  -k         keep-alive: one connection per thread for all its requests\n"
		"  -s         with -k, also make, set up and close an unused socket per\n"
		"             request, as the connect-per-request client does (benchmarks:\n"
		"             the most pooling behind the program's own calls can reach)\n"
		"  -m METHOD  request method (default GET)\n"
		"  -1         HTTP/1.0 instead of HTTP/1.1\n"
		"  -c         send \"Connection: close\"\n"
		"  -q         no error messages, only the summary line\n"
		"  -l         add latency figures to the summary line (see the source)\n"
		"prints: requests=N ok=N errors=N seconds=S rps=R; exit 0 when errors=0\n");
}

static long parse_number(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "naive_client: %s must be a number from %ld to %ld, not '%s'\n",
			what, min, max, s);
		exit(2);
	}
	return v;
}

/* The whole file (it may be a pipe, as with -e <(printf ...)). */
static void read_expected(const char *file)
{
	FILE *f = fopen(file, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "naive_client: %s: %s\n", file, strerror(errno));
		exit(2);
	}
	for (;;) {
		if (len == cap) {
			char *grown = cap < BODY_MAX_BYTES ? realloc(buf, cap ? cap * 2 : 65536) : NULL;

			if (grown == NULL) {
				fprintf(stderr, "naive_client: %s: too large\n", file);
				exit(2);
			}
			buf = grown;
			cap = cap ? cap * 2 : 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "naive_client: cannot read %s\n", file);
		exit(2);
	}
	fclose(f);
	free(opt.expected);
	opt.expected = buf;
	opt.expected_len = len;
	opt.have_expected = true;
}

static void set_address(const char *host, const char *port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&opt.addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&opt.addr;
	char literal[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);

	opt.port = (int)parse_number(port, "PORT", 1, 65535);
	/* "[::1]" is accepted as well as "::1". */
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof(literal)) {
		memcpy(literal, host + 1, len - 2);
		literal[len - 2] = '\0';
	} else {
		snprintf(literal, sizeof(literal), "%s", host);
	}
	memset(&opt.addr, 0, sizeof(opt.addr));
	if (inet_pton(AF_INET, literal, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)opt.port);
		opt.addrlen = sizeof(*sin);
		opt.host = strdup(literal);
	} else if (inet_pton(AF_INET6, literal, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)opt.port);
		opt.addrlen = sizeof(*sin6);
		char *bracketed;

		opt.host = asprintf(&bracketed, "[%s]", literal) < 0 ? NULL : bracketed;
	} else {
		fprintf(stderr, "naive_client: HOST must be an IPv4 or IPv6 address, not '%s'\n", host);
		exit(2);
	}
	if (opt.host == NULL) {
		fprintf(stderr, "naive_client: out of memory\n");
		exit(2);
	}
}

static void build_request(void)
{
	const char *m = opt.method;
	bool empty_body = !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
	int n;

	n = snprintf(opt.request, sizeof(opt.request),
		     "%s %s HTTP/1.%d\r\nHost: %s:%d\r\nUser-Agent: naive_client\r\n%s%s%s\r\n",
		     m, opt.path, opt.http10 ? 0 : 1, opt.host, opt.port,
		     empty_body ? "Content-Length: 0\r\n" : "",
		     opt.send_close ? "Connection: close\r\n" : "",
		     opt.keep_alive && opt.http10 && !opt.send_close ? "Connection: keep-alive\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(opt.request)) {
		fprintf(stderr, "naive_client: request too long\n");
		exit(2);
	}
	opt.request_len = (size_t)n;
}

static void parse_args(int argc, char **argv)
{
	int ch;

	opt.requests = 100;
	opt.threads = 1;
	opt.method = "GET";
	while ((ch = getopt(argc, argv, "n:t:e:p:ksm:1cqlh")) != -1) {
		switch (ch) {
		case 'n': opt.requests = parse_number(optarg, "-n", 1, 1000000000L); break;
		case 't': opt.threads = (int)parse_number(optarg, "-t", 1, 1024); break;
		case 'e': read_expected(optarg); break;
		case 'p': opt.pause_ms = parse_number(optarg, "-p", 0, 3600000L); break;
		case 'k': opt.keep_alive = true; break;
		case 's': opt.spare_socket = true; break;
		case 'm': opt.method = optarg; break;
		case '1': opt.http10 = true; break;
		case 'c': opt.send_close = true; break;
		case 'q': opt.quiet = true; break;
		case 'l': opt.latency = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (opt.spare_socket && !opt.keep_alive) {
		fprintf(stderr, "naive_client: -s goes with -k\n");
		exit(2);
	}
	if (argc - optind != 3) {
		usage(stderr);
		exit(2);
	}
	if (opt.method[0] == '\0' || strpbrk(opt.method, " \r\n") != NULL ||
	    argv[optind + 2][0] == '\0' || strpbrk(argv[optind + 2], " \r\n") != NULL) {
		fprintf(stderr, "naive_client: METHOD and PATH must be single words\n");
		exit(2);
	}
	set_address(argv[optind], argv[optind + 1]);
	opt.path = argv[optind + 2];
	opt.head = strcmp(opt.method, "HEAD") == 0;
	if (opt.threads > opt.requests)
		opt.threads = (int)opt.requests;
	build_request();
}


static int compare_ull(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return (x > y) - (x < y);
}

/* The value below which a share q of the n sorted values lie, in us. */
static unsigned long long quantile_us(const unsigned long long *v, long n, double q)
{
	long i = (long)(q * (double)n + 0.999999) - 1;

	if (n == 0)
		return 0;
	return v[i < 0 ? 0 : i] / 1000;
}

/* -l: every thread's times, merged and sorted, printed after the summary. */
static void latency_print(struct worker *workers)
{
	long nreq = 0, ncon = 0;
	unsigned long long *req, *con;

	for (int i = 0; i < opt.threads; i++) {
		nreq += workers[i].request_count;
		ncon += workers[i].connect_count;
	}
	req = malloc((size_t)(nreq + 1) * sizeof(*req));
	con = malloc((size_t)(ncon + 1) * sizeof(*con));
	if (req == NULL || con == NULL) {
		fprintf(stderr, "naive_client: out of memory\n");
		exit(2);
	}
	nreq = ncon = 0;
	for (int i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		if (w->request_count > 0)
			memcpy(req + nreq, w->request_ns, (size_t)w->request_count * sizeof(*req));
		if (w->connect_count > 0)
			memcpy(con + ncon, w->connect_ns, (size_t)w->connect_count * sizeof(*con));
		nreq += w->request_count;
		ncon += w->connect_count;
		free(w->request_ns);
		free(w->connect_ns);
	}
	qsort(req, (size_t)nreq, sizeof(*req), compare_ull);
	qsort(con, (size_t)ncon, sizeof(*con), compare_ull);
	printf(" p50_us=%llu p99_us=%llu connects=%ld connect_p50_us=%llu",
	       quantile_us(req, nreq, 0.5), quantile_us(req, nreq, 0.99), ncon,
	       quantile_us(con, ncon, 0.5));
	free(req);
	free(con);
}

int main(int argc, char **argv)
{
	struct worker *workers;
	long ok = 0, errors = 0;
	double start, seconds;

	parse_args(argc, argv);
	/* A write to a connection the server reset is an error to count, not
	 * a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	workers = calloc((size_t)opt.threads, sizeof(*workers));
	if (workers == NULL) {
		fprintf(stderr, "naive_client: out of memory\n");
		return 2;
	}
	start = now_seconds();
	for (int i = 0; i < opt.threads; i++) {
		workers[i].id = i;
		workers[i].requests = opt.requests / opt.threads + (i < opt.requests % opt.threads);
		if (opt.threads == 1) {
			worker_run(&workers[i]);
		} else if (pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]) != 0) {
			fprintf(stderr, "naive_client: cannot start thread %d\n", i);
			workers[i].errors = workers[i].requests;
			workers[i].requests = 0;
			workers[i].thread = 0;
		}
	}
	for (int i = 0; i < opt.threads; i++) {
		if (opt.threads > 1 && workers[i].thread != 0)
			pthread_join(workers[i].thread, NULL);
		ok += workers[i].ok;
		errors += workers[i].errors;
	}
	seconds = now_seconds() - start;
	printf("requests=%ld ok=%ld errors=%ld seconds=%.3f rps=%.1f", opt.requests, ok,
	       errors, seconds, seconds > 0 ? (double)ok / seconds : 0.0);
	if (opt.latency)
		latency_print(workers);
	printf("\n");
	free(workers);
	free(opt.expected);
	return errors == 0 ? 0 : 1;
}
