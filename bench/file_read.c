/*
 * file_read.c: what the shim costs a program that reads files.
 *
 *   file_read [-n N] [-c CHUNK] FILE      (defaults: N 1000000, CHUNK 64)
 *
 * The other half of the pass-through measurement (pipe_roundtrip is the
 * first): N read() calls of CHUNK bytes from a regular file, going back to
 * its start with lseek() whenever one returns 0, in one thread, timed with
 * CLOCK_MONOTONIC.  The file should be small enough to stay in the page
 * cache, so that what is timed is the call and not the disk.  Run it plain
 * and with LD_PRELOAD=libsockpool.so (bench/run.sh does) and compare.
 * Prints
 *   reads=N bytes=B seconds=S ns_per_read=X
 * and exits 1 if a read fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MAX 65536

struct options {
	long reads;
	long chunk;
	const char *path;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_positive(const char *text, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return -1;
	return v;
}

static struct options parse_options(int argc, char **argv)
{
	struct options opt = { .reads = 1000000, .chunk = 64 };
	int ch;

	while ((ch = getopt(argc, argv, "n:c:")) != -1) {
		if (ch == 'n')
			opt.reads = parse_positive(optarg, 1L << 40);
		else if (ch == 'c')
			opt.chunk = parse_positive(optarg, CHUNK_MAX);
		else
			goto usage;
		if (opt.reads < 0 || opt.chunk < 0)
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	opt.path = argv[optind];
	return opt;
usage:
	fprintf(stderr, "usage: file_read [-n N] [-c CHUNK] FILE   (N >= 1, 1 <= CHUNK <= %d)\n",
		CHUNK_MAX);
	exit(2);
}

int main(int argc, char **argv)
{
	struct options opt = parse_options(argc, argv);
	static char buf[CHUNK_MAX];
	long long bytes = 0;
	double start, seconds;
	int fd = open(opt.path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "file_read: %s: %s\n", opt.path, strerror(errno));
		return 1;
	}
	start = now_seconds();
	for (long i = 0; i < opt.reads; i++) {
		ssize_t n = read(fd, buf, (size_t)opt.chunk);

		if (n < 0) {
			fprintf(stderr, "file_read: read %ld failed: %s\n", i, strerror(errno));
			return 1;
		}
		if (n == 0 && lseek(fd, 0, SEEK_SET) != 0) {
			fprintf(stderr, "file_read: lseek failed: %s\n", strerror(errno));
			return 1;
		}
		bytes += n;
	}
	seconds = now_seconds() - start;
	close(fd);
	printf("reads=%ld bytes=%lld seconds=%.3f ns_per_read=%.1f\n", opt.reads, bytes,
	       seconds, seconds * 1e9 / (double)opt.reads);
	return 0;
}
