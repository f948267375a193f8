/*
 * early_ctor_lib.c: a library whose constructor makes an HTTP request, to
 * be preloaded beside libsockpool.so: hooks called from another library's
 * constructor, possibly before sockpool's own has run, must work.
 *
 * EARLY_PORT names the port of a server on 127.0.0.1; the constructor
 * GETs /index.html with one connection, blocking calls only, and writes
 * "status BYTES" (the status code and the body bytes read) to the file
 * EARLY_OUT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void early_request(void)
{
	const char *port = getenv("EARLY_PORT"), *out = getenv("EARLY_OUT");
	static const char req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET };
	char buf[65536];
	size_t got = 0;
	ssize_t n;
	int fd, status = 0;
	FILE *f;

	if (port == NULL || out == NULL)
		return;
	a.sin_port = htons((uint16_t)atoi(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1)) {
		while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		sscanf(buf, "HTTP/1.1 %d", &status);
	}
	if (fd >= 0)
		close(fd);
	f = fopen(out, "w");
	if (f != NULL) {
		char *body = strstr(buf, "\r\n\r\n");

		fprintf(f, "%d %zu\n", status, body != NULL && got > 0 ? strlen(body + 4) : (size_t)0);
		fclose(f);
	}
}
