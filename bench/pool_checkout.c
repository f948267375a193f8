/*
 * pool_checkout.c: what a big pool costs, in memory, fds and checkout time.
 *
 *   pool_checkout [-i IDLE] [-m MEASURE] [-u PATH] HOST PORT...
 *
 * Meant to run under sockpool with SOCKPOOL_MAX_IDLE_PER_DEST >= IDLE and
 * SOCKPOOL_MAX_IDLE >= IDLE x (number of ports); bench/run.sh does.  Each
 * PORT on HOST (an IPv4 literal) is one destination.
 *
 * 1. Fill: IDLE connections to every destination, all open at once (as a
 *    program with that many threads or an event loop would have them); a
 *    GET of PATH (default /index.html) on each, every response read to its
 *    end, then every socket closed.  Under sockpool, that leaves IDLE idle
 *    connections per destination in the pool.  RSS and open fds are read
 *    from /proc/self before and after.
 * 2. Measure: MEASURE (default 5000) cycles, destinations in turn, of
 *    socket(), connect() (timed alone), the same GET, close().  Under
 *    sockpool every connect() is served from the pool; the caller checks
 *    that with the server's count of accepted connections.
 *
 * Prints one line:
 *   dests=D idle_per_dest=K rss_start_kb= rss_held_kb= fds_start= fds_held=
 *   connects=M connect_ns_median= connect_ns_p90= connect_ns_mean=
 *   cycle_ns_mean=
 * and exits 1 on any failed call or malformed response.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESPONSE_MAX 65536

struct options {
	long idle, measure;
	const char *path;
	struct sockaddr_in *dests;
	int ndests;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("pool_checkout: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long parse_long(const char *text, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: pool_checkout [-i IDLE] [-m MEASURE] [-u PATH] HOST PORT...\n");
	exit(2);
}

static struct options parse_options(int argc, char **argv)
{
	struct options opt = { .idle = 1, .measure = 5000, .path = "/index.html" };
	struct in_addr host;
	int ch;

	while ((ch = getopt(argc, argv, "i:m:u:")) != -1) {
		if (ch == 'i' && (opt.idle = parse_long(optarg, 1, 100000)) > 0)
			continue;
		if (ch == 'm' && (opt.measure = parse_long(optarg, 0, 100000000)) >= 0)
			continue;
		if (ch == 'u') {
			opt.path = optarg;
			continue;
		}
		usage();
	}
	if (argc - optind < 2 || inet_pton(AF_INET, argv[optind], &host) != 1)
		usage();
	opt.ndests = argc - optind - 1;
	opt.dests = calloc((size_t)opt.ndests, sizeof(opt.dests[0]));
	if (opt.dests == NULL)
		die("out of memory");
	for (int i = 0; i < opt.ndests; i++) {
		long port = parse_long(argv[optind + 1 + i], 1, 65535);

		if (port < 0)
			usage();
		opt.dests[i] = (struct sockaddr_in){ .sin_family = AF_INET,
			.sin_port = htons((uint16_t)port), .sin_addr = host };
	}
	return opt;
}

/* VmRSS of this process, in KiB. */
static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		die("/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Open fds of this process (not counting the one that lists them). */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		die("/proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static int open_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	return fd;
}

static void connect_to(int fd, const struct sockaddr_in *dest)
{
	if (connect(fd, (const struct sockaddr *)dest, sizeof(*dest)) != 0)
		die("connect to port %d: %s", ntohs(dest->sin_port), strerror(errno));
}

static void send_request(int fd, const struct options *opt)
{
	char req[1024];
	int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
			   opt->path);

	if (len < 0 || (size_t)len >= sizeof(req))
		die("path too long");
	if (write(fd, req, (size_t)len) != len)
		die("write: %s", errno ? strerror(errno) : "short write");
}

/* Reads one response with a Content-Length to its last byte (nothing
 * after it, so that the connection is at a clean boundary). */
static void read_response(int fd)
{
	static __thread char buf[RESPONSE_MAX + 1];
	size_t have = 0, total = 0;

	for (;;) {
		ssize_t n;
		char *end, *cl;

		if (total == 0 && have > 0) {
			buf[have] = '\0';
			end = strstr(buf, "\r\n\r\n");
			if (end != NULL) {
				cl = strcasestr(buf, "\r\ncontent-length:");
				if (cl == NULL || cl > end)
					die("response without Content-Length");
				total = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
				if (total > RESPONSE_MAX)
					die("response too large");
			}
		}
		if (total != 0 && have >= total)
			break;
		n = read(fd, buf + have, (total ? total : RESPONSE_MAX) - have);
		if (n <= 0)
			die("read: %s", n < 0 ? strerror(errno) : "connection closed early");
		have += (size_t)n;
	}
	if (have != total || strncmp(buf, "HTTP/1.1 200 ", 13) != 0)
		die("unexpected response: %.40s", buf);
}

static void fill_pool(const struct options *opt)
{
	long n = opt->idle * opt->ndests;
	int *fds = calloc((size_t)n, sizeof(int));

	if (fds == NULL)
		die("out of memory");
	for (long i = 0; i < n; i++) {
		fds[i] = open_socket();
		connect_to(fds[i], &opt->dests[i % opt->ndests]);
	}
	for (long i = 0; i < n; i++)
		send_request(fds[i], opt);
	for (long i = 0; i < n; i++)
		read_response(fds[i]);
	for (long i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

static int compare_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct options opt = parse_options(argc, argv);
	long rss_start = rss_kb(), fds_start = open_fds(), rss_held, fds_held;
	long long *ns = calloc((size_t)opt.measure + 1, sizeof(long long));
	long long sum = 0, start;
	double cycle_ns = 0;

	if (ns == NULL)
		die("out of memory");
	fill_pool(&opt);
	rss_held = rss_kb();
	fds_held = open_fds();
	start = now_ns();
	for (long i = 0; i < opt.measure; i++) {
		int fd = open_socket();
		long long t0 = now_ns();

		connect_to(fd, &opt.dests[i % opt.ndests]);
		ns[i] = now_ns() - t0;
		sum += ns[i];
		send_request(fd, &opt);
		read_response(fd);
		close(fd);
	}
	if (opt.measure > 0)
		cycle_ns = (double)(now_ns() - start) / (double)opt.measure;
	qsort(ns, (size_t)opt.measure, sizeof(ns[0]), compare_ll);
	printf("dests=%d idle_per_dest=%ld rss_start_kb=%ld rss_held_kb=%ld fds_start=%ld "
	       "fds_held=%ld connects=%ld connect_ns_median=%lld connect_ns_p90=%lld "
	       "connect_ns_mean=%.0f cycle_ns_mean=%.0f\n",
	       opt.ndests, opt.idle, rss_start, rss_held, fds_start, fds_held, opt.measure,
	       opt.measure ? ns[opt.measure / 2] : 0, opt.measure ? ns[opt.measure * 9 / 10] : 0,
	       opt.measure ? (double)sum / (double)opt.measure : 0.0, cycle_ns);
	free(ns);
	free(opt.dests);
	return 0;
}
