/*
 * stat_finish.c: the end of every output of sockpool-stat.  stdout is
 * buffered, so a failed write (a full disk, a reader that went away)
 * shows only when it is flushed; each mode flushes through here, so that
 * such a failure is said on stderr and turns into exit status 1 in one
 * way for all of them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stat_output.h"

int output_finish(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, ME ": cannot write the output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
