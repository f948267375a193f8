/*
 * stdio_client.c: the textbook C HTTP client.  write() an HTTP/1.0
 * request, then fdopen() the socket and fgets() the response until
 * end-of-file: stdio reads through glibc's internal read, which no hook
 * of sockpool sees.
 *
 * usage: stdio_client PORT PATH; prints the response's byte count and
 * exits 0 when it was read to end-of-file.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char request[512], line[4096];
	size_t total = 0;
	FILE *in;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: stdio_client PORT PATH\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("connect");
		return 1;
	}
	snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", argv[2]);
	if (write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		perror("write");
		return 1;
	}
	in = fdopen(fd, "r");
	if (in == NULL) {
		perror("fdopen");
		return 1;
	}
	while (fgets(line, sizeof(line), in) != NULL)
		total += strlen(line);
	if (ferror(in)) {
		perror("fgets");
		return 1;
	}
	fclose(in);
	printf("%zu\n", total);
	return 0;
}
