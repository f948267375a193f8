/*
 * make_seeds.c: writes the seed corpora of the fuzz targets into DIR:
 *
 *   DIR/fuzz_segment/     a valid segment (two destinations, IPv4 and
 *                         IPv6, counters and histograms filled), the same
 *                         cut at telling lengths, and with a bad magic,
 *                         an old version, an absurd table size
 *   DIR/fuzz_tcp_states/  /proc/net/tcp and tcp6 text as the kernel
 *                         writes it, and some damaged
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
	return 0;
}
