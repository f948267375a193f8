/*
 * make_seeds.c: writes the seed corpora of the fuzz targets into DIR:
 *
 *   DIR/fuzz_segment/     a valid segment (two destinations, IPv4 and
 *                         IPv6, counters and histograms filled), the same
 *                         cut at telling lengths, and with a bad magic,
 *                         an old version, an absurd table size
 *   DIR/fuzz_tcp_states/  /proc/net/tcp and tcp6 text as the kernel
 *                         writes it, and some damaged
 *   DIR/fuzz_http1/       responses as servers write them (nginx's, with
 *                         Keep-Alive, pipelined, HTTP/1.0, chunked, HEAD,
 *                         100 Continue) and requests as clients do, fed
 *                         whole and in small chunks
 *
 * The segment is built from stats_layout.h alone, as a foreign writer
 * would, so the seeds follow any change of layout.
 *
 *   make_seeds DIR
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../../src/stats/stats_layout.h"

#define SEGMENT_SIZE (sizeof(struct sp_stats_header) + \
		      SP_STATS_MAX_DESTS * sizeof(struct sp_stats_dest))

static const char *dir;

static void write_seed(const char *sub, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void fill_counters(struct sp_stats_counters *c, uint64_t seed)
{
	for (unsigned i = 0; i < SP_COUNTER_COUNT; i++)
		c->c[i] = seed * (i + 1);
	for (unsigned h = 0; h < SP_HIST_COUNT; h++)
		for (unsigned b = 4; b < 14; b++)
			c->h[h][b] = seed + b * h;
}

static unsigned char *valid_segment(void)
{
	unsigned char *image = calloc(1, SEGMENT_SIZE);
	struct sp_stats_header *h = (struct sp_stats_header *)image;
	struct sp_stats_dest *d = (struct sp_stats_dest *)(h + 1);

	h->magic = SP_STATS_MAGIC;
	h->version = SP_STATS_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = SEGMENT_SIZE;
	h->dest_record_size = sizeof(*d);
	h->max_dests = SP_STATS_MAX_DESTS;
	h->ndests = 2;
	h->pid = 4242;
	h->start_time_ns = 1700000000000000000ull;
	snprintf(h->program, sizeof(h->program), "client \"x\"\\\n\xff");
	fill_counters(&h->global, 100);
	d[0].in_use = 1;
	d[0].family = AF_INET;
	d[0].port = 8080;
	memcpy(d[0].addr, "\x7f\0\0\x01", 4);
	fill_counters(&d[0].counters, 60);
	d[1].in_use = 1;
	d[1].family = AF_INET6;
	d[1].port = 443;
	d[1].scope_id = 2;
	memcpy(d[1].addr, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	fill_counters(&d[1].counters, 40);
	return image;
}

static void segment_seeds(void)
{
	unsigned char *image = valid_segment();
	struct sp_stats_header *h = (struct sp_stats_header *)image;
	const size_t cuts[] = {
		0, 8, sizeof(*h) - 1, sizeof(*h), sizeof(*h) + 1,
		sizeof(*h) + sizeof(struct sp_stats_dest), SEGMENT_SIZE - 1,
	};
	char name[64];

	write_seed("fuzz_segment", "valid", image, SEGMENT_SIZE);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		snprintf(name, sizeof(name), "cut_%zu", cuts[i]);
		write_seed("fuzz_segment", name, image, cuts[i]);
	}
	h->magic ^= 1;
	write_seed("fuzz_segment", "bad_magic", image, SEGMENT_SIZE);
	h->magic ^= 1;
	h->version = 2;
	write_seed("fuzz_segment", "version_2", image, SEGMENT_SIZE);
	h->version = SP_STATS_VERSION;
	h->max_dests = 0xffffffffu;
	write_seed("fuzz_segment", "absurd_table", image, SEGMENT_SIZE);
	h->max_dests = SP_STATS_MAX_DESTS;
	h->ndests = SP_STATS_MAX_DESTS;	/* claimed, mostly unpublished */
	memset(&h->global, 0xff, sizeof(h->global));	/* counters at their limit */
	write_seed("fuzz_segment", "full_table_huge_counts", image, SEGMENT_SIZE);
	free(image);
}

static void tcp_seeds(void)
{
	static const char tcp[] =
"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n"
"   1: 0100007F:A2C4 0100007F:1F90 01 00000000:00000000 02:000A7D8B 00000000  1000        0 23456 2 0000000000000000 20 4 30 10 -1\n"
"   2: 0100007F:A2C6 0100007F:1F90 06 00000000:00000000 03:00001722 00000000     0        0 0 3 0000000000000000\n"
"   3: 0100007F:A2C8 0100007F:1F90 08 00000000:00000000 00:00000000 00000000  1000        0 34567 1 0000000000000000 20 4 0 10 -1\n";
	static const char tcp6[] =
"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 45678 1 0000000000000000 100 0 0 10 0\n"
"   1: 00000000000000000000000001000000:B3A2 00000000000000000000000001000000:1F90 02 00000000:00000000 01:00000064 00000002     0        0 56789 2 0000000000000000 200 0 0 10 -1\n";
	static const char damaged[] =
"  sl  local_address rem_address   st\n"
"   0: 0100007F:1F90 00000000:0000 0G 00000000\n"
"   1: 0100007F:1F90 00000000:0000 FF\n"
"   2: 0100007F:1F90\n"
"\n"
"   3: 0100007F:1F90 00000000:0000 01";
	char with_chunk[sizeof(tcp) + 1];

	/* The first byte is the chunk size the target feeds the rest in. */
	with_chunk[0] = 7;
	memcpy(with_chunk + 1, tcp, sizeof(tcp) - 1);
	write_seed("fuzz_tcp_states", "tcp_chunks_8", with_chunk, sizeof(tcp));
	with_chunk[0] = (char)255;
	write_seed("fuzz_tcp_states", "tcp_chunks_256", with_chunk, sizeof(tcp));
	with_chunk[0] = 0;
	memcpy(with_chunk + 1, tcp6, sizeof(tcp6) - 1);
	write_seed("fuzz_tcp_states", "tcp6_chunks_1", with_chunk, sizeof(tcp6));
	with_chunk[0] = 3;
	memcpy(with_chunk + 1, damaged, sizeof(damaged) - 1);
	write_seed("fuzz_tcp_states", "damaged", with_chunk, sizeof(damaged));
}

static void http1_seeds(void)
{
	static const struct {
		const char *name;
		unsigned char chunk, requests;	/* the target's first two bytes */
		const char *response;
	} seeds[] = {
		{ "nginx_whole", 255, 0, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
		  "Date: Mon, 30 Nov 2026 14:00:00 GMT\r\nContent-Type: text/html\r\n"
		  "Content-Length: 5\r\nLast-Modified: Mon, 30 Nov 2026 13:00:00 GMT\r\n"
		  "Connection: keep-alive\r\nETag: \"1-5\"\r\nAccept-Ranges: bytes\r\n\r\nhello" },
		{ "keep_alive_chunks_7", 6, 0, "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=99\r\n"
		  "Content-Length: 3\r\n\r\nabc" },
		{ "pipelined_three", 255, 2, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
		  "HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno"
		  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ "http10_keep_alive", 255, 0, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
		  "Content-Length: 2\r\n\r\nok" },
		{ "close", 255, 0, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok" },
		{ "chunked", 255, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "2\r\nok\r\n0\r\n\r\n" },
		{ "head_then_get", 255, 1 | 4, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
		  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" },
		{ "continue_then_ok", 255, 0, "HTTP/1.1 100 Continue\r\n\r\n"
		  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
		{ "body_across_reads", 9, 0, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
		  "0123456789012345678901234567890123456789" },
		/* The program's side (byte 1, bit 6). */
		{ "request_curl", 255, 0x40, "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
		  "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n" },
		{ "request_post_keyed_chunks_5", 4, 0x40, "POST /orders HTTP/1.1\r\nHost: x\r\n"
		  "Idempotency-Key: 8e03978e\r\nContent-Length: 7\r\n\r\npayload"
		  "GET /next HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "request_http10_keep_alive", 255, 0x40, "HEAD / HTTP/1.0\r\n"
		  "Connection: keep-alive\r\n\r\nDELETE /x?y=1 HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "request_chunked", 255, 0x40, "PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3\r\nabc\r\n0\r\n\r\n" },
	};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char buf[1024];
		size_t n = strlen(seeds[i].response);

		buf[0] = (char)seeds[i].chunk;
		buf[1] = (char)seeds[i].requests;
		memcpy(buf + 2, seeds[i].response, n);
		write_seed("fuzz_http1", seeds[i].name, buf, n + 2);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	segment_seeds();
	tcp_seeds();
	http1_seeds();
	return 0;
}
