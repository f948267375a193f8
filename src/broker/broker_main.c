/*
 * broker_main.c: sockpool-broker's start (see broker.h).
 *
 * Usage: sockpool-broker --socket PATH [--persist MS] [--idle-timeout MS]
 *        [--max-idle N] [--max-idle-total N] [--daemon] [--ready-fd FD]
 *        [--exit-with-parent] [-v]
 *
 * What it must get right before serving (the lessons of OpenSSH's
 * ControlMaster):
 *  - Only the user may reach it: the socket lives in a directory of its
 *    own that is the user's and 0700 (made so when missing, refused
 *    otherwise), and every peer is checked again with SO_PEERCRED.
 *  - Two starters never make two brokers: PATH.lock is held (flock) for
 *    the broker's whole life; whoever cannot take it leaves, saying that
 *    a broker already serves PATH.  Holding it, a socket file left by a
 *    killed broker is stale and removed.
 *  - It cleans up its socket and lock file when it ends.
 *  - It holds no one's terminal or pipe: once serving, its standard
 *    descriptors are /dev/null, so a reader of the command's output never
 *    waits for the broker to end.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"
#include "broker_proto.h"

#define ME "sockpool-broker"

static int usage(const char *why)
{
	fprintf(stderr, ME ": %s\n"
		"Usage: " ME " --socket PATH [--persist MS] [--idle-timeout MS] [--max-idle N]\n"
		"       [--max-idle-total N] [--daemon] [--ready-fd FD] [--exit-with-parent] [-v]\n"
		"(see 'sockpool --help': sockpool --broker PATH)\n", why);
	return 2;
}

static bool parse_unsigned(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Fills *opt from argv; -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct broker_options *opt)
{
	*opt = (struct broker_options){ .idle_timeout_ms = 4000, .max_per_dest = 32,
					.max_total = 1024, .ready_fd = -1 };
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned n, *slot = NULL, max = 0;

		if (strcmp(o, "--daemon") == 0) {
			opt->daemon = true;
			continue;
		}
		if (strcmp(o, "--exit-with-parent") == 0) {
			opt->exit_with_parent = true;
			continue;
		}
		if (strcmp(o, "-v") == 0) {
			opt->verbose = true;
			continue;
		}
		if (v == NULL)
			return usage("an option needs a value, or is unknown");
		i++;
		if (strcmp(o, "--socket") == 0) {
			opt->socket_path = v;
			continue;
		}
		if (strcmp(o, "--ready-fd") == 0) {
			if (!parse_unsigned(v, 65535, &n))
				return usage("--ready-fd: expected a descriptor number");
			opt->ready_fd = (int)n;
			continue;
		}
		if (strcmp(o, "--persist") == 0)
			slot = &opt->persist_ms, max = 86400000;
		else if (strcmp(o, "--idle-timeout") == 0)
			slot = &opt->idle_timeout_ms, max = 3600000;
		else if (strcmp(o, "--max-idle") == 0)
			slot = &opt->max_per_dest, max = 4096;
		else if (strcmp(o, "--max-idle-total") == 0)
			slot = &opt->max_total, max = 65536;
		else
			return usage("unknown option");
		if (!parse_unsigned(v, max, slot)) {
			fprintf(stderr, ME ": %s '%s': expected a whole number from 0 to %u\n",
				o, v, max);
			return 2;
		}
	}
	if (opt->socket_path == NULL || opt->socket_path[0] != '/')
		return usage("--socket needs an absolute path");
	if (strlen(opt->socket_path) >= BROKER_PATH_MAX) {
		fprintf(stderr, ME ": socket path %s is %zu bytes, longer than the %d an AF_UNIX "
			"address holds\n", opt->socket_path, strlen(opt->socket_path),
			BROKER_PATH_MAX - 1);
		return 1;
	}
	return -1;
}

/* The socket's directory: made 0700 when missing; otherwise it must be
 * a directory of ours that no one else may enter.  0 or -1 (said). */
static int check_private_dir(const char *path)
{
	char copy[PATH_MAX], *dir;
	struct stat st;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, ME ": cannot make directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) != 0) {
		fprintf(stderr, ME ": %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		fprintf(stderr, ME ": %s must be a directory of yours that only you may enter "
			"(mode 0700): not serving\n", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, ME ": %s is not writable: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static char lock_path[PATH_MAX];

/* Takes PATH.lock for the broker's life.  1 taken, 0 another broker has
 * it, -1 error (said). */
static int take_lock(const char *path)
{
	int fd;

	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fprintf(stderr, ME ": cannot open %s: %s\n", lock_path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		lock_path[0] = '\0';
		return errno == EWOULDBLOCK ? 0 : -1;
	}
	return 1;	/* fd stays open, and locked, until we end */
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	(void)unlink(path);	/* we hold the lock: a file there is stale */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0600) != 0 || listen(fd, 256) != 0) {
		fprintf(stderr, ME ": cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sockets held spend descriptors: as many as the hard limit allows. */
static void raise_fd_limit(struct broker_options *opt)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    opt->max_total > rl.rlim_cur / 2)
		opt->max_total = (unsigned)(rl.rlim_cur / 2);
}

/* Standard descriptors to /dev/null: nothing of the caller's stays open. */
static void let_go_of_stdio(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return;
	for (int fd = 0; fd <= 2; fd++)
		(void)dup2(null, fd);
	if (null > 2)
		close(null);
}

/* --daemon: the caller returns once the broker serves (status 0) or
 * failed (its status); the broker goes on in a session of its own. */
static void become_daemon(struct broker_options *opt)
{
	int pipefd[2], status = 1;
	char byte;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, ME ": cannot start in the background: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &byte, 1) == 1)
			status = byte;
		_exit(status);
	}
	close(pipefd[0]);
	setsid();
	opt->ready_fd = pipefd[1];
}

static void say_ready(struct broker_options *opt, char status)
{
	if (opt->ready_fd < 0)
		return;
	(void)!write(opt->ready_fd, &status, 1);
	close(opt->ready_fd);
	opt->ready_fd = -1;
}

int main(int argc, char **argv)
{
	struct broker_options opt;
	int rc = parse_options(argc, argv, &opt), listen_fd, locked;

	if (rc >= 0)
		return rc;
	if (opt.exit_with_parent)
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (opt.ready_fd >= 0)
		(void)fcntl(opt.ready_fd, F_SETFD, FD_CLOEXEC);
	if (opt.daemon)
		become_daemon(&opt);
	if (check_private_dir(opt.socket_path) != 0) {
		say_ready(&opt, 1);
		return 1;
	}
	locked = take_lock(opt.socket_path);
	if (locked <= 0) {
		if (locked == 0)
			fprintf(stderr, ME ": a broker already serves %s\n", opt.socket_path);
		say_ready(&opt, (char)(locked == 0 ? 0 : 1));
		return locked == 0 ? 0 : 1;
	}
	listen_fd = listen_on(opt.socket_path);
	if (listen_fd < 0) {
		say_ready(&opt, 1);
		return 1;
	}
	raise_fd_limit(&opt);
	if (opt.verbose)
		fprintf(stderr, ME "[%d]: serving %s (%u per destination, %u in all)\n",
			(int)getpid(), opt.socket_path, opt.max_per_dest, opt.max_total);
	if (!opt.verbose)
		let_go_of_stdio();
	say_ready(&opt, 0);
	rc = broker_serve(&opt, listen_fd);
	/* A client finding no file falls back at once.  The lock file stays:
	 * removing it would let a starter lock a new file while another
	 * still holds the old one. */
	unlink(opt.socket_path);
	return rc;
}
