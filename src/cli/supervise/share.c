/*
 * share.c: running the shared pool's broker beside the command
 * (`sockpool --share`, see share.h).
 *
 * The broker is our child, in a process group of its own (a Ctrl-C for
 * the command must not end the pool under it), told to die with us
 * (--exit-with-parent), and holding none of our standard descriptors
 * once it serves (so a pipe reading the command's output ends when the
 * command does).  Its directory is made with mkdtemp (0700) under
 * XDG_RUNTIME_DIR, TMPDIR or /tmp; a path too long for an AF_UNIX
 * address is said and sharing is off.
 */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../broker/broker_proto.h"

#define ME "sockpool"

static const char *runtime_base(void)
{
	const char *env[] = { "XDG_RUNTIME_DIR", "TMPDIR" };

	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *v = getenv(env[i]);

		if (v != NULL && v[0] == '/' && access(v, W_OK | X_OK) == 0)
			return v;
	}
	return "/tmp";
}

static int fail(struct share *s, const char *why)
{
	fprintf(stderr, ME ": --share: %s; each process keeps its own pool\n", why);
	if (s->dir[0] != '\0')
		(void)rmdir(s->dir);
	s->dir[0] = '\0';
	s->pid = -1;
	return -1;
}

int share_start(struct share *s, const char *broker)
{
	char fdtext[16], why[4200], status = 1;
	int ready[2];
	pid_t pid;

	s->pid = -1;
	snprintf(s->dir, sizeof(s->dir), "%s/sockpool-share.XXXXXX", runtime_base());
	if (mkdtemp(s->dir) == NULL) {
		snprintf(why, sizeof(why), "cannot make a directory in %s: %s", runtime_base(),
			 strerror(errno));
		s->dir[0] = '\0';
		return fail(s, why);
	}
	if (snprintf(s->socket_path, sizeof(s->socket_path), "%s/broker", s->dir) >=
	    BROKER_PATH_MAX) {
		snprintf(why, sizeof(why), "the socket path %s is longer than the %d bytes an "
			 "AF_UNIX address holds", s->socket_path, BROKER_PATH_MAX - 1);
		return fail(s, why);
	}
	if (pipe(ready) != 0)
		return fail(s, "no pipe");
	pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		return fail(s, "cannot start the broker");
	}
	if (pid == 0) {
		close(ready[0]);
		setpgid(0, 0);
		snprintf(fdtext, sizeof(fdtext), "%d", ready[1]);
		execl(broker, broker, "--socket", s->socket_path, "--ready-fd", fdtext,
		      "--exit-with-parent", (char *)NULL);
		fprintf(stderr, ME ": cannot run %s: %s\n", broker, strerror(errno));
		_exit(127);
	}
	close(ready[1]);
	while (read(ready[0], &status, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	s->pid = pid;
	if (status != 0) {
		share_stop(s);
		return fail(s, "the broker did not start");
	}
	return 0;
}

void share_stop(struct share *s)
{
	char lock[4200];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	s->pid = -1;
	if (s->dir[0] == '\0')
		return;
	(void)unlink(s->socket_path);
	snprintf(lock, sizeof(lock), "%s.lock", s->socket_path);
	(void)unlink(lock);
	(void)rmdir(s->dir);
	s->dir[0] = '\0';
}
