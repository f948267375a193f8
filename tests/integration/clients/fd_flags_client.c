/*
 * fd_flags_client.c: a program's socket shows, after connect(), exactly
 * the O_NONBLOCK and FD_CLOEXEC the program gave it, however it gave them
 * (the socket's type, fcntl F_SETFL/F_SETFD, ioctl FIONBIO/FIOCLEX/
 * FIONCLEX), whatever an earlier socket the pool hands back had.
 *
 * usage: fd_flags_client PORT PATH ROUNDS; each round makes a socket in
 * one of eight ways, connects (waiting for a non-blocking connect with
 * poll and SO_ERROR), reads the flags back from the kernel, then turns
 * the socket blocking again (the same way) for one request and closes
 * it.  Prints "rounds=N ok" and exits 0, or says what differed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum how { BY_TYPE, BY_FCNTL, BY_IOCTL };

static void set_nonblock(int fd, enum how how, int on)
{
	if (how == BY_IOCTL) {
		if (ioctl(fd, FIONBIO, &on) != 0)
			perror("ioctl FIONBIO"), exit(1);
	} else {
		int fl = fcntl(fd, F_GETFL);

		if (fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) != 0)
			perror("fcntl F_SETFL"), exit(1);
	}
}

static void set_cloexec(int fd, enum how how, int on)
{
	if (how == BY_IOCTL) {
		if (ioctl(fd, on ? FIOCLEX : FIONCLEX) != 0)
			perror("ioctl FIOCLEX"), exit(1);
	} else if (fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) != 0) {
		perror("fcntl F_SETFD"), exit(1);
	}
}

static void request(int fd, const char *path)
{
	char buf[65536];
	size_t got = 0;
	int len;

	len = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	if (write(fd, buf, (size_t)len) != len)
		perror("write"), exit(1);
	/* The response head and a small body arrive together; read until
	 * the head is in and the body (Content-Length) complete. */
	for (;;) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		char *end, *cl;

		if (n <= 0)
			perror("read"), exit(1);
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		cl = strcasestr(buf, "content-length:");
		if (end != NULL && cl != NULL &&
		    got >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10))
			return;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int rounds;

	if (argc != 4) {
		fprintf(stderr, "usage: fd_flags_client PORT PATH ROUNDS\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rounds = atoi(argv[3]);
	for (int r = 0; r < rounds; r++) {
		enum how how = (enum how)(r % 3);
		int nonblock = (r / 3) % 2, cloexec = (r / 2) % 2;
		int type = SOCK_STREAM, fd, rc, fl, fdfl;

		if (how == BY_TYPE)
			type |= (nonblock ? SOCK_NONBLOCK : 0) | (cloexec ? SOCK_CLOEXEC : 0);
		fd = socket(AF_INET, type, 0);
		if (fd < 0)
			perror("socket"), exit(1);
		if (how != BY_TYPE) {
			set_nonblock(fd, how, nonblock);
			set_cloexec(fd, how, cloexec);
		}
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		if (rc != 0 && !(nonblock && errno == EINPROGRESS))
			perror("connect"), exit(1);
		if (rc != 0) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int err = 0;
			socklen_t elen = sizeof(err);

			if (poll(&p, 1, 10000) != 1 ||
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
				fprintf(stderr, "round %d: connect failed\n", r), exit(1);
		}
		fl = fcntl(fd, F_GETFL);
		fdfl = fcntl(fd, F_GETFD);
		if (!!(fl & O_NONBLOCK) != nonblock || !!(fdfl & FD_CLOEXEC) != cloexec) {
			fprintf(stderr, "round %d (way %d): O_NONBLOCK %d FD_CLOEXEC %d, "
				"the program set %d and %d\n", r, (int)how, !!(fl & O_NONBLOCK),
				!!(fdfl & FD_CLOEXEC), nonblock, cloexec);
			return 1;
		}
		if (nonblock)
			set_nonblock(fd, how == BY_TYPE ? BY_FCNTL : how, 0);
		request(fd, argv[2]);
		close(fd);
	}
	printf("rounds=%d ok\n", rounds);
	return 0;
}
