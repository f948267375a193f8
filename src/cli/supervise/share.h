/*
 * share.h: the broker `sockpool --share` runs for the command's life.
 */
#ifndef SOCKPOOL_SUPERVISE_SHARE_H
#define SOCKPOOL_SUPERVISE_SHARE_H

#include <sys/types.h>

struct share {
	pid_t pid;		/* the broker, or -1 */
	char dir[4096];		/* its private directory */
	char socket_path[4096];
};

/* Makes a private 0700 directory and starts broker (sockpool-broker) on
 * a socket in it; returns once it serves.  0, or -1 said on stderr in one
 * line (the command then runs with a pool per process). */
int share_start(struct share *s, const char *broker);

/* Stops the broker (its sockets are closed) and removes its directory. */
void share_stop(struct share *s);

#endif
