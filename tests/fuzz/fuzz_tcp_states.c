/*
 * fuzz_tcp_states.c: libFuzzer target for the parser of /proc/net/tcp
 * (src/cli/stat_host.c).  The first byte of an input picks the size of
 * the chunks the rest is fed in, as read() may cut the file anywhere.
 * The parser must never overrun its line buffer, and every line must be
 * counted once: as a socket of a known state, as unparsed, or as the
 * header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/stat_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_tcp counts = { 0 };
	struct host_tcp_parser p;
	size_t chunk, lines = 0, counted;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	host_tcp_parser_init(&p, &counts);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (!host_tcp_parser_feed(&p, (const char *)data + off, n))
			abort();	/* inputs are far below the line limit */
	}
	host_tcp_parser_finish(&p);

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size > 0 && data[size - 1] != '\n')
		lines++;	/* a last line without its newline */
	counted = (size_t)counts.unparsed + (p.header_done ? 1 : 0);
	for (unsigned st = 0; st <= HOST_TCP_STATE_MAX; st++) {
		if (counts.state[st] != 0 && host_tcp_state_name(st) == NULL)
			abort();
		counted += (size_t)counts.state[st];
	}
	if (counted != lines || counts.cut)
		abort();
	return 0;
}
