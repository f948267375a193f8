/*
 * http1_fast.c: the tracker's fast scanner (see http1_fast.h).
 */
#include "http1_fast.h"

#include <stdint.h>
#include <string.h>

#include "http1_text.h"

/*
 * Nearly every response a pooled connection carries is the same shape: a
 * status line, a few plain headers and a Content-Length body, the whole
 * head in one read.  http-parser walks it a byte at a time through a state
 * machine (some 25 instructions a byte); this scanner finds its lines with
 * memchr, looks at the few headers that decide reuse and counts the body.
 * It takes only what it is sure of, and leaves anything else (no length,
 * chunked, 1xx, 204, 304, HEAD, Upgrade, a Connection header with other
 * tokens, a head cut across reads, any odd byte) to http-parser, whose
 * verdict for what it does take is the same (tests/fuzz/fuzz_http1.c
 * compares the two).
 */

bool http1_fast_path = true;

#define FAST_HEAD_MAX 8192	/* larger heads go to http-parser */

/* Byte classes: TEXT is what a header value or reason phrase we take is
 * made of (visible ASCII, space, tab), TOKEN what a header name is made
 * of (RFC 9110 tchar). */
enum { TEXT = 1, TOKEN = 2 };
static const uint8_t byte_class[256] = {
	['\t'] = TEXT, [' '] = TEXT, ['!'] = TEXT | TOKEN, ['"'] = TEXT,
	['#' ... '\''] = TEXT | TOKEN, ['(' ... ')'] = TEXT, ['*' ... '+'] = TEXT | TOKEN,
	[','] = TEXT, ['-' ... '.'] = TEXT | TOKEN, ['/'] = TEXT,
	['0' ... '9'] = TEXT | TOKEN, [':' ... '@'] = TEXT, ['A' ... 'Z'] = TEXT | TOKEN,
	['[' ... ']'] = TEXT, ['^' ... '`'] = TEXT | TOKEN, ['a' ... 'z'] = TEXT | TOKEN,
	['{'] = TEXT, ['|'] = TEXT | TOKEN, ['}'] = TEXT, ['~'] = TEXT | TOKEN,
};

/* Whether every byte of p is of class `cls`. */
static bool all_of(const char *p, size_t len, uint8_t cls)
{
	for (size_t i = 0; i < len; i++)
		if (!(byte_class[(unsigned char)p[i]] & cls))
			return false;
	return true;
}

/* all_of(p, len, TEXT), eight bytes at a time where they are all printable
 * ASCII (0x20 to 0x7e): header values are most of a head's bytes, and
 * every response is scanned.  A word with any other byte (a tab, a
 * control, 0x7f and up) is looked at byte by byte. */
static bool all_text(const char *p, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, sizeof(w));
		/* A byte below 0x20, or above 0x7e (0x7f and every byte with
		 * its high bit set), sets that byte's high bit here. */
		if ((((w - ones * 0x20) & ~w) | ((w + ones * 0x01) | w)) & highs &&
		    !all_of(p + i, 8, TEXT))
			return false;
	}
	return all_of(p + i, len - i, TEXT);
}

/* Whether name (len bytes, already checked to be token or text bytes)
 * is `lower` in any case.  lower holds lower-case letters and '-' only:
 * setting bit 0x20 folds A-Z onto a-z, and of the bytes checked only '-'
 * itself becomes '-' (0x0d would, but no token or text byte is 0x0d). */
static inline bool name_is(const char *name, size_t len, const char *lower)
{
	if (len != strlen(lower))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((name[i] | 0x20) != lower[i])
			return false;
	return true;
}

/* What the scanner learned from one head. */
struct fast_head {
	bool http11;
	bool close, keep_alive;		/* Connection tokens */
	bool have_length;
	bool keyed;			/* an Idempotency-Key header */
	bool auth;			/* an Authorization header */
	uint64_t length;
	const char *keep_alive_value;	/* the Keep-Alive header's, or NULL */
	size_t keep_alive_len;
};

/* One header line: false for anything the fast path leaves alone. */
static bool fast_header(struct fast_head *h, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *v, *end = line + len;
	size_t name_len;

	if (colon == NULL || colon == line)
		return false;
	name_len = (size_t)(colon - line);
	if (!all_of(line, name_len, TOKEN))
		return false;
	/* http-parser takes any name that begins with Transfer-Encoding as
	 * one ("Transfer-EncodingX" too): leave those to it. */
	if (name_len > 17 && strncasecmp(line, "transfer-encoding", 17) == 0)
		return false;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	if (!all_text(v, (size_t)(end - v)))
		return false;
	switch (name_len) {
	case 14:
		if (!name_is(line, name_len, "content-length"))
			return true;
		/* Digits and nothing else, not even trailing blanks. */
		if (h->have_length || v == end || end - v > 18)
			return false;
		h->have_length = true;
		for (h->length = 0; v < end; v++) {
			if (*v < '0' || *v > '9')
				return false;
			h->length = h->length * 10 + (uint64_t)(*v - '0');
		}
		return true;
	case 10:
		/* Values as they stand, trailing blanks and all: http-parser
		 * reads a Connection token followed by a tab as another. */
		if (name_is(line, name_len, "keep-alive")) {
			if (h->keep_alive_value != NULL)
				return false;
			h->keep_alive_value = v;
			h->keep_alive_len = (size_t)(end - v);
			return true;
		}
		if (!name_is(line, name_len, "connection"))
			return true;
		if (name_is(v, (size_t)(end - v), "close"))
			h->close = true;
		else if (name_is(v, (size_t)(end - v), "keep-alive"))
			h->keep_alive = true;
		else
			return false;
		return true;
	case 17:
		return !name_is(line, name_len, "transfer-encoding");
	case 15:
		if (name_is(line, name_len, IDEMPOTENCY_KEY))
			h->keyed = true;
		return true;
	case 16:
		return !name_is(line, name_len, "proxy-connection");
	case 13:
		if (name_is(line, name_len, "authorization"))
			h->auth = true;
		return true;
	case 7:
		return !name_is(line, name_len, "upgrade");
	default:
		return true;
	}
}

/* The status line: HTTP/1.x, a final status that has a body, a plain
 * reason. */
static bool fast_status_line(struct fast_head *h, const char *line, size_t len)
{
	unsigned status;

	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ' || (len > 12 && line[12] != ' '))
		return false;
	for (size_t i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return false;
	status = (unsigned)(line[9] - '0') * 100 + (unsigned)(line[10] - '0') * 10 +
		 (unsigned)(line[11] - '0');
	h->http11 = line[7] == '1';
	return status >= 200 && status <= 599 && status != 204 && status != 304 &&
	       all_text(line + 12, len - 12);
}

/* The header lines from `line` to the empty one that ends at end + 4
 * (header_section_end's): false for any the fast path leaves alone. */
static bool fast_header_lines(struct fast_head *h, const char *line, const char *end)
{
	for (const char *eol; line < end + 2; line = eol + 2) {
		eol = line_end(line, end + 2);
		if (eol == NULL || !fast_header(h, line, (size_t)(eol - line)))
			return false;
	}
	return true;
}

/* Of a message whose head ends at data + head_len and whose body is
 * h->length bytes, what is in data[0, len): the bytes taken, and in *left
 * the body still to come. */
static size_t fast_take_body(const struct fast_head *h, size_t head_len, size_t len,
			     uint64_t *left)
{
	size_t body = len - head_len < h->length ? len - head_len : (size_t)h->length;

	*left = h->length - body;
	return head_len + body;
}

/* The response's body is all here: it ends as http-parser would end it. */
void http1_fast_response_complete(struct http1_tracker *t)
{
	t->response_in_message = false;
	t->responses_done++;
	t->response_keep_alive = true;	/* the fast path takes no other */
}

/* Reads a whole response head at the start of data (and what of its body
 * is there); the bytes it took, or 0 to leave them all to http-parser. */
size_t http1_fast_response(struct http1_tracker *t, const char *data, size_t len)
{
	struct fast_head h = { 0 };
	const char *end = header_section_end(data, len < FAST_HEAD_MAX ? len : FAST_HEAD_MAX);
	const char *line = data, *eol;
	size_t taken;

	if (end == NULL || awaited_method(t) < 0 || awaited_method(t) == HTTP_HEAD)
		return 0;
	eol = line_end(line, end + 2);
	if (eol == NULL || !fast_status_line(&h, line, (size_t)(eol - line)) ||
	    !fast_header_lines(&h, eol + 2, end))
		return 0;
	/* Kept alive (by version and Connection), and ending by its length. */
	if (!h.have_length || h.close || (!h.http11 && !h.keep_alive))
		return 0;

	t->response_in_message = true;
	t->keep_alive_max = -1;
	if (h.keep_alive_value != NULL) {
		size_t n = h.keep_alive_len < sizeof(t->header_value) - 1 ?
			   h.keep_alive_len : sizeof(t->header_value) - 1;

		memcpy(t->header_value, h.keep_alive_value, n);
		t->header_value_len = (uint8_t)n;
		keep_alive_header_done(t);
	}
	t->header_name_len = 0;
	t->header_value_len = 0;
	taken = fast_take_body(&h, (size_t)(end - data) + 4, len, &t->fast_body_left);
	if (t->fast_body_left == 0)
		http1_fast_response_complete(t);
	return taken;
}

/* The methods the request fast path takes, as http-parser numbers them. */
static const struct {
	const char *name;	/* with the space after it */
	unsigned char len;
	enum http_method method;
} fast_methods[] = {
	{ "GET ", 4, HTTP_GET }, { "POST ", 5, HTTP_POST }, { "HEAD ", 5, HTTP_HEAD },
	{ "PUT ", 4, HTTP_PUT }, { "DELETE ", 7, HTTP_DELETE },
	{ "OPTIONS ", 8, HTTP_OPTIONS }, { "PATCH ", 6, HTTP_PATCH },
};

/* The request line: a method we know, an origin-form target of visible
 * ASCII, HTTP/1.x; the method, or -1. */
static int fast_request_line(struct fast_head *h, const char *line, size_t len)
{
	const char *target = NULL, *sp;
	int method = -1;

	for (size_t i = 0; i < sizeof(fast_methods) / sizeof(fast_methods[0]); i++) {
		if (len > fast_methods[i].len &&
		    memcmp(line, fast_methods[i].name, fast_methods[i].len) == 0) {
			method = (int)fast_methods[i].method;
			target = line + fast_methods[i].len;
			break;
		}
	}
	if (method < 0 || *target != '/' || len < 9 ||
	    memcmp(line + len - 9, " HTTP/1.", 8) != 0 ||
	    (line[len - 1] != '0' && line[len - 1] != '1'))
		return -1;
	sp = line + len - 9;
	if (sp <= target || memchr(target, ' ', (size_t)(sp - target)) != NULL)
		return -1;
	for (const char *p = target; p < sp; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return -1;
	h->http11 = line[len - 1] == '1';
	return method;
}

/* The request's end: counted as on_request_complete counts it. */
void http1_fast_request_complete(struct http1_tracker *t)
{
	t->request_in_message = false;
	t->requests_done++;
	t->request_keep_alive = true;	/* the fast path takes no other */
}

/* Reads a whole request head at the start of data (and what of its body
 * is there); the bytes it took, or 0 to leave them all to http-parser. */
size_t http1_fast_request(struct http1_tracker *t, const char *data, size_t len)
{
	struct fast_head h = { 0 };
	const char *end = header_section_end(data, len < FAST_HEAD_MAX ? len : FAST_HEAD_MAX);
	const char *line = data, *eol;
	size_t taken;
	unsigned slot;
	int method;

	if (end == NULL)
		return 0;
	eol = line_end(line, end + 2);
	if (eol == NULL || (method = fast_request_line(&h, line, (size_t)(eol - line))) < 0 ||
	    !fast_header_lines(&h, eol + 2, end))
		return 0;
	if (h.close || (!h.http11 && !h.keep_alive) ||
	    t->requests_started - t->responses_done >= HTTP1_MAX_OUTSTANDING)
		return 0;

	/* on_request_begin and on_request_headers_complete, in one. */
	t->protocol = HTTP1_HTTP;
	t->requests_started++;
	t->request_in_message = true;
	slot = (t->requests_started - 1) % HTTP1_MAX_OUTSTANDING;
	t->methods[slot] = (uint8_t)method;
	if (h.auth)
		t->conn_bound_auth = true;
	if (method_is_idempotent((unsigned)method) || h.keyed)
		t->replay_safe |= (uint16_t)(1u << slot);
	else
		t->replay_safe &= (uint16_t)~(1u << slot);
	taken = fast_take_body(&h, (size_t)(end - data) + 4, len, &t->fast_request_body_left);
	if (t->fast_request_body_left == 0)
		http1_fast_request_complete(t);
	return taken;
}
