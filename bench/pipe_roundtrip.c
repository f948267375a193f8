/*
 * pipe_roundtrip.c: what the shim costs a program that does no networking.
 *
 *   pipe_roundtrip [-n N]      (default 1000000)
 *
 * Every read() and write() of a program under sockpool goes through the
 * shim, on pipes and files too; the design promises that this pass-through
 * path is one table lookup.  This measures it: N round trips of write()
 * one byte into a pipe and read() it back, in one thread, timed with
 * CLOCK_MONOTONIC.  Run it plain and with LD_PRELOAD=libsockpool.so
 * (bench/run.sh does) and compare.  Prints
 *   roundtrips=N seconds=S ns_per_roundtrip=X
 * and exits 1 if a call ever moves other than one byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_count(int argc, char **argv)
{
	long n = 1000000;
	int ch;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		char *end;

		if (ch != 'n')
			goto usage;
		errno = 0;
		n = strtol(optarg, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1)
			goto usage;
	}
	if (optind == argc)
		return n;
usage:
	fprintf(stderr, "usage: pipe_roundtrip [-n N]   (N >= 1, default 1000000)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long n = parse_count(argc, argv);
	int fds[2];
	char byte = 'x';
	double start, seconds;

	if (pipe(fds) != 0) {
		perror("pipe_roundtrip: pipe");
		return 1;
	}
	start = now_seconds();
	for (long i = 0; i < n; i++) {
		if (write(fds[1], &byte, 1) != 1 || read(fds[0], &byte, 1) != 1) {
			fprintf(stderr, "pipe_roundtrip: round trip %ld failed: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	seconds = now_seconds() - start;
	printf("roundtrips=%ld seconds=%.3f ns_per_roundtrip=%.1f\n", n, seconds,
	       seconds * 1e9 / (double)n);
	return 0;
}
