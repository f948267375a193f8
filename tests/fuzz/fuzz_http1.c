/*
 * fuzz_http1.c: libFuzzer target comparing the HTTP/1.x tracker's fast
 * path for response heads (src/core/http1.c) with http-parser alone.
 *
 * Input: byte 0 picks the size of the chunks the responses are fed in
 * (read() may cut them anywhere), byte 1 the requests sent before them
 * (1 to 4, each a GET or a HEAD by one bit); the rest is what the server
 * answered.  Two trackers see the same conversation, one with the fast
 * path and one without; after every chunk, and after a final end of file,
 * everything the engine reads from a tracker must be the same in both.
 * The fast path may only take what http-parser would take the same way.
 */
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
	    http1_reusable(a) != http1_reusable(b) || http1_in_exchange(a) != http1_in_exchange(b))
		abort();
}

/* Feeds the same bytes to both trackers, a with the fast path. */
static void feed_both(struct http1_tracker *a, struct http1_tracker *b, const char *p, size_t n)
{
	http1_fast_path = true;
	http1_feed_response(a, p, n);
	http1_fast_path = false;
	http1_feed_response(b, p, n);
	same_or_abort(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char head[] = "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http1_tracker a, b;
	size_t chunk;
	unsigned requests;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] + 1;
	requests = (data[1] & 3u) + 1;
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

		feed_both(&a, &b, (const char *)data + off, n);
	}
	http1_response_eof(&a);
	http1_response_eof(&b);
	same_or_abort(&a, &b);
	return 0;
}
