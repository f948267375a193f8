/*
 * children_client.c: a C program that makes HTTP requests and child
 * processes the ways C programs do, so that a test can see what sockpool
 * does with its sockets in each child.
 *
 *   children_client MODE PORT PATH BODY_LENGTH ROUNDS
 *
 * Every request is a GET of PATH on a new blocking socket to
 * 127.0.0.1:PORT (HTTP/1.1, kept alive), whose body must be BODY_LENGTH
 * bytes; the socket is closed once the response is read (sockpool may pool
 * it).  Sockets are made without SOCK_CLOEXEC, as most C programs make
 * them.  MODE:
 *   vfork-exit   ROUNDS rounds of (4 requests, then a vfork child that
 *                closes every fd above 2 with close_range and _exits)
 *   vfork-exec   the same, the child closes them and execs /bin/true
 *   spawn-dup2   one request on a socket kept open, posix_spawn of
 *                /bin/sleep 30 with that socket dup2'd onto its stdin,
 *                the socket closed by the parent, then ROUNDS requests
 *   spawn-inherit  the same, but the child inherits the socket as it is
 *                (no FD_CLOEXEC), with no file action
 *   spawn-cloexec  the same with FD_CLOEXEC set on the socket before the
 *                spawn: the child does not get it (the control)
 * The spawned child is killed and reaped at the end.
 *
 * Output: "requests N", "sockets N" (sockets among its descriptors at the
 * end, in /proc/self/fd) and, last, "ok".  Exit 0, 2 on a usage error, 1 on
 * any failure (said on stderr).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int port;
static const char *path;
static long body_length;
static int requests_made;

static void die(const char *what)
{
	fprintf(stderr, "children_client: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int connect_to_server(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect");
	return fd;
}

/* One GET on fd, its response read in full and its length checked. */
static void get_on(int fd)
{
	char req[512], buf[65536];
	size_t have = 0;
	long length = -1;
	char *end = NULL;
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);

	if (write(fd, req, (size_t)n) != n)
		die("write");
	for (;;) {
		ssize_t got = read(fd, buf + have, sizeof(buf) - have - 1);

		if (got <= 0)
			die("read");
		have += (size_t)got;
		buf[have] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");

			if (cl == NULL || cl > end) {
				errno = EPROTO;
				die("no Content-Length");
			}
			length = strtol(cl + 17, NULL, 10);
			if (length != body_length) {
				errno = EPROTO;
				die("wrong body length");
			}
		}
		if (end != NULL && have - (size_t)(end + 4 - buf) >= (size_t)length)
			break;
		if (have + 1 == sizeof(buf)) {
			errno = EMSGSIZE;
			die("response too large");
		}
	}
	requests_made++;
}

static void request(void)
{
	int fd = connect_to_server();

	get_on(fd);
	if (close(fd) != 0)
		die("close");
}

/* Sockets among this process's descriptors, as the kernel lists them. */
static int sockets_open(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (dir == NULL)
		die("/proc/self/fd");
	while ((e = readdir(dir)) != NULL) {
		char link[300], target[64];
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0 && (target[len] = 0, strncmp(target, "socket:", 7) == 0))
			n++;
	}
	closedir(dir);
	return n;
}

/* vfork, the child as Python's subprocess makes it: close every fd above 2
 * with close_range, then _exit or exec.  Nothing lives in registers or on
 * the stack across vfork here: the child runs on the parent's stack. */
static int exec_child;

static pid_t vfork_child(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		char *argv[] = { "true", NULL };

		close_range(3, ~0u, 0);
		if (exec_child)
			execve("/bin/true", argv, environ);
		_exit(exec_child ? 127 : 0);
	}
	return pid;
}

static void vfork_rounds(int rounds)
{
	for (int r = 0; r < rounds; r++) {
		int status;
		pid_t pid;

		for (int i = 0; i < 4; i++)
			request();
		pid = vfork_child();
		if (pid < 0)
			die("vfork");
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("the vfork child failed");
	}
}

static void spawn_holding(const char *how, int rounds)
{
	char *argv[] = { "sleep", "30", NULL };
	posix_spawn_file_actions_t actions;
	int fd = connect_to_server(), rc, status;
	pid_t pid;

	get_on(fd);
	posix_spawn_file_actions_init(&actions);
	if (strcmp(how, "dup2") == 0) {
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
			die("F_SETFD");
		posix_spawn_file_actions_adddup2(&actions, fd, 0);
	} else if (strcmp(how, "cloexec") == 0) {
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
			die("F_SETFD");
	}
	rc = posix_spawn(&pid, "/bin/sleep", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		errno = rc;
		die("posix_spawn");
	}
	if (close(fd) != 0)
		die("close");
	for (int i = 0; i < rounds; i++)
		request();
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
}

int main(int argc, char **argv)
{
	const char *mode;
	int rounds;

	if (argc != 6) {
		fprintf(stderr, "usage: children_client MODE PORT PATH BODY_LENGTH ROUNDS\n");
		return 2;
	}
	mode = argv[1];
	port = atoi(argv[2]);
	path = argv[3];
	body_length = atol(argv[4]);
	rounds = atoi(argv[5]);
	if (strcmp(mode, "vfork-exit") == 0 || strcmp(mode, "vfork-exec") == 0) {
		exec_child = strcmp(mode, "vfork-exec") == 0;
		vfork_rounds(rounds);
	}
	else if (strncmp(mode, "spawn-", 6) == 0)
		spawn_holding(mode + 6, rounds);
	else
		return 2;
	printf("requests %d\nsockets %d\nok\n", requests_made, sockets_open());
	return 0;
}
