/*
 * fuzz_http1.c: libFuzzer target comparing the HTTP/1.x tracker's fast
 * path for response heads (src/core/http1.c) with http-parser alone.
 *
 * Input: byte 0 picks the size of the chunks the bytes are fed in (read()
 * and write() may cut them anywhere).  Byte 1 picks the side: with bit 6
 * set, the rest is what the program sent (requests); else byte 1 picks
 * the requests sent first (1 to 4, each a GET or a HEAD by one bit) and
 * the rest is what the server answered.  Two trackers see the same
 * conversation, one with the fast path and one without; after every
 * chunk, and after a final end of file, everything the engine reads from
 * a tracker must be the same in both.  The fast path may only take what
 * http-parser would take the same way.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const struct http1_tracker *a, const struct http1_tracker *b)
{
	if (a->protocol != b->protocol || a->unusable != b->unusable ||
	    a->requests_started != b->requests_started || a->requests_done != b->requests_done ||
	    a->responses_done != b->responses_done ||
	    a->response_in_message != b->response_in_message ||
	    (a->responses_done > 0 && a->response_keep_alive != b->response_keep_alive) ||
	    a->keep_alive_timeout_s != b->keep_alive_timeout_s ||
	    a->keep_alive_max != b->keep_alive_max ||
	    http1_reusable(a) != http1_reusable(b) || http1_in_exchange(a) != http1_in_exchange(b) ||
	    a->request_in_message != b->request_in_message ||
	    (a->requests_done > 0 && a->request_keep_alive != b->request_keep_alive) ||
	    http1_outstanding_replay_safe(a) != http1_outstanding_replay_safe(b))
		abort();
	for (uint32_t r = a->responses_done; r < a->requests_started && !a->unusable; r++)
		if (a->methods[r % HTTP1_MAX_OUTSTANDING] != b->methods[r % HTTP1_MAX_OUTSTANDING])
			abort();
}

/* Feeds the same bytes to both trackers, a with the fast path. */
static void feed_both(struct http1_tracker *a, struct http1_tracker *b, bool requests,
		      const char *p, size_t n)
{
	void (*feed)(struct http1_tracker *, const char *, size_t) =
		requests ? http1_feed_request : http1_feed_response;

	http1_fast_path = true;
	feed(a, p, n);
	http1_fast_path = false;
	feed(b, p, n);
	same_or_abort(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char head[] = "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http1_tracker a, b;
	size_t chunk;
	unsigned requests;
	bool sending;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] + 1;
	sending = data[1] & 0x40u;
	requests = sending ? 0 : (data[1] & 3u) + 1;
	http1_init(&a);
	http1_init(&b);
	for (unsigned i = 0; i < requests; i++) {
		const char *r = data[1] & (4u << i) ? head : get;

		http1_feed_request(&a, r, strlen(r));
		http1_feed_request(&b, r, strlen(r));
	}
	data += 2;
	size -= 2;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		feed_both(&a, &b, sending, (const char *)data + off, n);
	}
	http1_response_eof(&a);
	http1_response_eof(&b);
	same_or_abort(&a, &b);
	return 0;
}
