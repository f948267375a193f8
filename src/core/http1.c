/*
 * http1.c: the HTTP/1.x tracker (see http1.h) over nodejs' http-parser.
 *
 * Two parsers per connection, one per direction, live inside the tracker:
 * no allocation.  Parser callbacks only count and record verdicts.  The
 * only header we read is Keep-Alive (Connection and the version are
 * judged by http_should_keep_alive()); its value is copied into a small
 * fixed buffer because http-parser may deliver it in pieces.
 */
#include "http1.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct http1_tracker *tracker_of(http_parser *p)
{
	return p->data;
}

/* The CR of the CRLF that ends the line at p, found before limit (which
 * a CRLF is known to precede); NULL for a bare LF. */
static const char *line_end(const char *p, const char *limit)
{
	const char *lf = memchr(p, '\n', (size_t)(limit - p));

	return lf != NULL && lf > p && lf[-1] == '\r' ? lf - 1 : NULL;
}

/* Where the header section at data ends: its final CRLF CRLF, or NULL
 * when it is not all there.  (memchr over lines: glibc's memmem sets up a
 * two-way search that costs more than the few lines of a head.) */
static const char *header_section_end(const char *data, size_t len)
{
	const char *p = data, *end = data + len, *lf;

	while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (lf - data >= 3 && memcmp(lf - 3, "\r\n\r\n", 4) == 0)
			return lf - 3;
		p = lf + 1;
	}
	return NULL;
}

/* ---- request side ---- */

/* Until the first request's headers parse, the bytes may not be HTTP at
 * all ("PING" begins like "PUT"): the first request is counted when its
 * headers are complete, the others as they begin.  conn.c counts
 * requests_started as requests. */
static int on_request_begin(http_parser *p)
{
	struct http1_tracker *t = tracker_of(p);

	if (t->protocol == HTTP1_HTTP) {
		t->requests_started++;
		/* No verdict until its headers are complete. */
		t->replay_safe &= (uint16_t)~(1u << ((t->requests_started - 1) %
						     HTTP1_MAX_OUTSTANDING));
	}
	t->request_keyed = false;
	t->request_in_header_value = false;
	t->request_header_name_len = 0;
	t->request_in_message = true;
	return 0;
}

static bool method_is_idempotent(unsigned method)
{
	return method == HTTP_GET || method == HTTP_HEAD || method == HTTP_OPTIONS ||
	       method == HTTP_TRACE || method == HTTP_PUT || method == HTTP_DELETE;
}

#define IDEMPOTENCY_KEY "idempotency-key"

/* Request headers are read only to see Idempotency-Key, by name. */
static int on_request_header_field(http_parser *p, const char *at, size_t len)
{
	struct http1_tracker *t = tracker_of(p);
	size_t room = sizeof(t->request_header_name) - t->request_header_name_len;

	if (t->request_in_header_value) {
		t->request_in_header_value = false;
		t->request_header_name_len = 0;
		room = sizeof(t->request_header_name);
	}
	if (len > room) {
		len = room;	/* too long to be the one we look for */
		t->request_header_name_len = sizeof(t->request_header_name);
		return 0;
	}
	memcpy(t->request_header_name + t->request_header_name_len, at, len);
	t->request_header_name_len = (uint8_t)(t->request_header_name_len + len);
	return 0;
}

static int on_request_header_value(http_parser *p, const char *at, size_t len)
{
	struct http1_tracker *t = tracker_of(p);

	(void)at;
	(void)len;
	if (t->request_in_header_value)
		return 0;
	t->request_in_header_value = true;
	if (t->request_header_name_len == strlen(IDEMPOTENCY_KEY) &&
	    strncasecmp(t->request_header_name, IDEMPOTENCY_KEY, strlen(IDEMPOTENCY_KEY)) == 0)
		t->request_keyed = true;
	return 0;
}

static int on_request_headers_complete(http_parser *p)
{
	struct http1_tracker *t = tracker_of(p);
	uint32_t waiting;
	unsigned slot;

	if (t->protocol != HTTP1_HTTP) {
		t->protocol = HTTP1_HTTP;
		t->requests_started++;
	}
	waiting = t->requests_started - 1 - t->responses_done;
	if (p->method == HTTP_CONNECT || waiting >= HTTP1_MAX_OUTSTANDING) {
		t->unusable = true;
		return 0;
	}
	slot = (t->requests_started - 1) % HTTP1_MAX_OUTSTANDING;
	t->methods[slot] = (uint8_t)p->method;
	if (method_is_idempotent(p->method) || t->request_keyed)
		t->replay_safe |= (uint16_t)(1u << slot);
	else
		t->replay_safe &= (uint16_t)~(1u << slot);
	return 0;
}

static int on_request_complete(http_parser *p)
{
	struct http1_tracker *t = tracker_of(p);

	t->requests_done++;
	t->request_keep_alive = http_should_keep_alive(p) != 0;
	t->request_in_message = false;
	return 0;
}

static const http_parser_settings request_settings = {
	.on_message_begin = on_request_begin,
	.on_header_field = on_request_header_field,
	.on_header_value = on_request_header_value,
	.on_headers_complete = on_request_headers_complete,
	.on_message_complete = on_request_complete,
};

/* ---- response side ---- */

static void keep_alive_header_done(struct http1_tracker *t)
{
	char *s = t->header_value;

	t->header_value[t->header_value_len] = '\0';
	/* "timeout=5, max=100", any order, any case. */
	for (char *tok = s; *tok != '\0';) {
		tok += strspn(tok, " \t,");
		if (strncasecmp(tok, "timeout=", 8) == 0)
			t->keep_alive_timeout_s = (int32_t)strtol(tok + 8, NULL, 10);
		else if (strncasecmp(tok, "max=", 4) == 0)
			t->keep_alive_max = (int32_t)strtol(tok + 4, NULL, 10);
		tok += strcspn(tok, ",");
	}
}

static void header_finish(struct http1_tracker *t)
{
	if (t->in_header_value && t->header_is_keep_alive)
		keep_alive_header_done(t);
	t->in_header_value = false;
	t->header_name_len = 0;
	t->header_value_len = 0;
	t->header_is_keep_alive = false;
}

static int on_response_begin(http_parser *p)
{
	struct http1_tracker *t = tracker_of(p);

	t->response_in_message = true;
	t->keep_alive_max = -1;	/* per response; the timeout stays learned */
	t->in_header_value = false;
	t->header_name_len = 0;
	t->header_value_len = 0;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http1_tracker *t = tracker_of(p);

	if (t->in_header_value)
		header_finish(t);
	if (t->header_name_len + len < sizeof(t->header_name)) {
		memcpy(t->header_name + t->header_name_len, at, len);
		t->header_name_len = (uint8_t)(t->header_name_len + len);
	} else {
		t->header_name_len = sizeof(t->header_name);	/* too long: not ours */
	}
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http1_tracker *t = tracker_of(p);

	if (!t->in_header_value) {
		t->in_header_value = true;
		t->header_is_keep_alive = t->header_name_len == 10 &&
			strncasecmp(t->header_name, "keep-alive", 10) == 0;
	}
	if (!t->header_is_keep_alive)
		return 0;
	if (t->header_value_len + len >= sizeof(t->header_value))
		len = sizeof(t->header_value) - 1 - t->header_value_len;
	memcpy(t->header_value + t->header_value_len, at, len);
	t->header_value_len = (uint8_t)(t->header_value_len + len);
	return 0;
}

/* The method of the oldest request still waiting for its final response. */
static int awaited_method(const struct http1_tracker *t)
{
	if (t->responses_done >= t->requests_started)
		return -1;
	return t->methods[t->responses_done % HTTP1_MAX_OUTSTANDING];
}

static int on_response_headers_complete(http_parser *p)
{
	struct http1_tracker *t = tracker_of(p);

	header_finish(t);
	t->response_interim = p->status_code >= 100 && p->status_code < 200;
	if (awaited_method(t) < 0 || p->status_code == 101) {
		t->unusable = true;	/* unasked-for answer, or a protocol switch */
		return 0;
	}
	/* 1: the message has no body, whatever its headers say (RFC 9112
	 * 6.3): http-parser cannot know it for HEAD, and would read a body
	 * announced by the Content-Length of a 204 or 304. */
	return awaited_method(t) == HTTP_HEAD || t->response_interim ||
	       p->status_code == 204 || p->status_code == 304 ? 1 : 0;
}

static int on_response_complete(http_parser *p)
{
	struct http1_tracker *t = tracker_of(p);

	t->response_in_message = false;
	if (t->response_interim) {
		t->response_interim = false;
		return 0;
	}
	t->responses_done++;
	t->response_keep_alive = http_should_keep_alive(p) != 0;
	return 0;
}

static const http_parser_settings response_settings = {
	.on_message_begin = on_response_begin,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_response_headers_complete,
	.on_message_complete = on_response_complete,
};

/* ---- the fast path ---- */

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

static bool name_is(const char *name, size_t len, const char *lower)
{
	return len == strlen(lower) && strncasecmp(name, lower, len) == 0;
}

/* What the scanner learned from one head. */
struct fast_head {
	bool http11;
	bool close, keep_alive;		/* Connection tokens */
	bool have_length;
	bool keyed;			/* an Idempotency-Key header */
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
	if (!all_of(v, (size_t)(end - v), TEXT))
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
	       all_of(line + 12, len - 12, TEXT);
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
static void fast_response_complete(struct http1_tracker *t)
{
	t->response_in_message = false;
	t->responses_done++;
	t->response_keep_alive = true;	/* the fast path takes no other */
}

/* Reads a whole response head at the start of data (and what of its body
 * is there); the bytes it took, or 0 to leave them all to http-parser. */
static size_t fast_response(struct http1_tracker *t, const char *data, size_t len)
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
		fast_response_complete(t);
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
static void fast_request_complete(struct http1_tracker *t)
{
	t->request_in_message = false;
	t->requests_done++;
	t->request_keep_alive = true;	/* the fast path takes no other */
}

/* Reads a whole request head at the start of data (and what of its body
 * is there); the bytes it took, or 0 to leave them all to http-parser. */
static size_t fast_request(struct http1_tracker *t, const char *data, size_t len)
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
	if (method_is_idempotent((unsigned)method) || h.keyed)
		t->replay_safe |= (uint16_t)(1u << slot);
	else
		t->replay_safe &= (uint16_t)~(1u << slot);
	taken = fast_take_body(&h, (size_t)(end - data) + 4, len, &t->fast_request_body_left);
	if (t->fast_request_body_left == 0)
		fast_request_complete(t);
	return taken;
}

/* ---- the tracker ---- */

void http1_init(struct http1_tracker *t)
{
	memset(t, 0, sizeof(*t));
	http_parser_init(&t->request_parser, HTTP_REQUEST);
	http_parser_init(&t->response_parser, HTTP_RESPONSE);
	t->request_parser.data = t;
	t->response_parser.data = t;
	t->keep_alive_timeout_s = -1;
	t->keep_alive_max = -1;
}

void http1_feed_request(struct http1_tracker *t, const char *data, size_t len)
{
	size_t used;

	if (t->protocol == HTTP1_NOT_HTTP || t->unusable || len == 0)
		return;
	while (len > 0) {
		if (t->fast_request_body_left > 0) {
			used = len < t->fast_request_body_left ? len : (size_t)t->fast_request_body_left;
			t->fast_request_body_left -= used;
			if (t->fast_request_body_left == 0)
				fast_request_complete(t);
		} else if (!http1_fast_path || t->request_in_message ||
			   (used = fast_request(t, data, len)) == 0) {
			break;
		}
		data += used;
		len -= used;
	}
	if (len == 0)
		return;
	used = http_parser_execute(&t->request_parser, &request_settings, data, len);
	if (HTTP_PARSER_ERRNO(&t->request_parser) != HPE_OK) {
		if (t->protocol == HTTP1_UNDECIDED)
			t->protocol = HTTP1_NOT_HTTP;
		t->unusable = true;
	} else if (t->request_parser.upgrade || used != len) {
		t->unusable = true;
	}
}

void http1_feed_response(struct http1_tracker *t, const char *data, size_t len)
{
	size_t used;

	if (t->protocol == HTTP1_UNDECIDED && len > 0) {
		/* HTTP servers do not speak first: bytes before any request
		 * mean a protocol we do not know. */
		t->protocol = HTTP1_NOT_HTTP;
		t->unusable = true;
	}
	if (t->protocol != HTTP1_HTTP || t->unusable || len == 0)
		return;
	while (len > 0) {
		if (t->fast_body_left > 0) {
			used = len < t->fast_body_left ? len : (size_t)t->fast_body_left;
			t->fast_body_left -= used;
			if (t->fast_body_left == 0)
				fast_response_complete(t);
		} else if (!http1_fast_path || t->response_in_message ||
			   (used = fast_response(t, data, len)) == 0) {
			break;
		}
		data += used;
		len -= used;
	}
	if (len == 0)
		return;
	used = http_parser_execute(&t->response_parser, &response_settings, data, len);
	if (HTTP_PARSER_ERRNO(&t->response_parser) != HPE_OK ||
	    t->response_parser.upgrade || used != len)
		t->unusable = true;
}

void http1_response_eof(struct http1_tracker *t)
{
	if (t->protocol == HTTP1_HTTP && !t->unusable)
		http_parser_execute(&t->response_parser, &response_settings, NULL, 0);
	/* After EOF the server is gone, whatever the message said. */
	t->unusable = true;
}

void http1_give_up(struct http1_tracker *t)
{
	t->unusable = true;
}

bool http1_in_exchange(const struct http1_tracker *t)
{
	return t->requests_started > t->responses_done;
}

bool http1_outstanding_replay_safe(const struct http1_tracker *t)
{
	if (t->protocol != HTTP1_HTTP || t->requests_started <= t->responses_done)
		return false;
	if (t->requests_started - t->responses_done > HTTP1_MAX_OUTSTANDING)
		return false;
	for (uint32_t r = t->responses_done; r < t->requests_started; r++) {
		unsigned slot = r % HTTP1_MAX_OUTSTANDING;

		if (!(t->replay_safe & (1u << slot)))
			return false;
	}
	return true;
}

bool http1_request_looks_idempotent(const char *data, size_t len)
{
	static const char *const methods[] = {
		"GET ", "HEAD ", "OPTIONS ", "TRACE ", "PUT ", "DELETE ",
	};
	static const char key[] = "\r\n" IDEMPOTENCY_KEY ":";
	const char *end;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t n = strlen(methods[i]);

		if (len >= n && memcmp(data, methods[i], n) == 0)
			return true;
	}
	/* Only the header section: a large body is not searched. */
	end = header_section_end(data, len);
	if (end != NULL)
		len = (size_t)(end - data) + 2;
	for (size_t i = 0; len >= sizeof(key) - 1 && i <= len - (sizeof(key) - 1); i++)
		if (strncasecmp(data + i, key, sizeof(key) - 1) == 0)
			return true;
	return false;
}

bool http1_reusable(const struct http1_tracker *t)
{
	return t->protocol == HTTP1_HTTP && !t->unusable &&
	       t->requests_done > 0 &&
	       t->requests_started == t->requests_done &&
	       t->responses_done == t->requests_done &&
	       !t->response_in_message &&
	       t->request_keep_alive && t->response_keep_alive &&
	       t->keep_alive_max != 0;
}

/* ---- the Connection: close rewrite ---- */

static bool header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* The value of a header line after "Name:", trimmed. */
static void header_value(const char *line, size_t len, const char **value, size_t *vlen)
{
	const char *v = memchr(line, ':', len) + 1, *end = line + len;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*value = v;
	*vlen = (size_t)(end - v);
}

/* Splits a Connection value into its tokens: whether it holds close,
 * keep-alive or upgrade, and the others, comma-separated, into rest. */
static bool connection_tokens(const char *v, size_t vlen, bool *close, bool *keep,
			      char *rest, size_t restcap, size_t *restlen)
{
	const char *end = v + vlen;

	while (v < end) {
		const char *tok = v, *tend;
		size_t n;

		while (v < end && *v != ',')
			v++;
		tend = v++;
		while (tok < tend && (*tok == ' ' || *tok == '\t'))
			tok++;
		while (tend > tok && (tend[-1] == ' ' || tend[-1] == '\t'))
			tend--;
		n = (size_t)(tend - tok);
		if (n == 0)
			continue;
		if (n == 5 && strncasecmp(tok, "close", 5) == 0) {
			*close = true;
		} else if (n == 10 && strncasecmp(tok, "keep-alive", 10) == 0) {
			*keep = true;
		} else if (n == 7 && strncasecmp(tok, "upgrade", 7) == 0) {
			return false;
		} else {
			if (*restlen + n + 2 > restcap)
				return false;
			if (*restlen > 0) {
				memcpy(rest + *restlen, ", ", 2);
				*restlen += 2;
			}
			memcpy(rest + *restlen, tok, n);
			*restlen += n;
		}
	}
	return true;
}

/* Whether a header line may be one the rewrite looks at: cheaper than
 * comparing names, and most lines are none of them. */
static bool may_matter(const char *line, size_t len)
{
	char first = (char)(line[0] | 0x20);

	return len > 0 && (first == 'c' || first == 'u' || first == 'p');
}

static bool append(char *out, size_t outcap, size_t *used, const char *p, size_t n)
{
	if (*used + n > outcap)
		return false;
	memcpy(out + *used, p, n);
	*used += n;
	return true;
}

size_t http1_rewrite_keep_alive(const char *data, size_t len, char *out, size_t outcap,
				size_t *header_len)
{
	const char *end = header_section_end(data, len), *line, *eol;
	bool http10, asked_close = false, asked_keep = false;
	char rest[256];		/* the other Connection tokens (TE...) */
	size_t used = 0, restlen = 0;

	if (end == NULL)
		return 0;
	*header_len = (size_t)(end - data) + 4;
	eol = line_end(data, end + 2);
	if (eol == NULL)
		return 0;
	http10 = eol - data > 9 && memcmp(eol - 9, " HTTP/1.0", 9) == 0;
	if (!http10 && !(eol - data > 9 && memcmp(eol - 9, " HTTP/1.1", 9) == 0))
		return 0;
	for (line = eol + 2; line < end + 2; line = eol + 2) {
		const char *v;
		size_t n, vlen;

		eol = line_end(line, end + 2);
		if (eol == NULL)
			return 0;
		n = (size_t)(eol - line);
		if (!may_matter(line, n))
			continue;
		if (header_is(line, n, "Upgrade") || header_is(line, n, "Proxy-Connection"))
			return 0;
		if (!header_is(line, n, "Connection"))
			continue;
		header_value(line, n, &v, &vlen);
		if (!connection_tokens(v, vlen, &asked_close, &asked_keep, rest, sizeof(rest),
				       &restlen))
			return 0;
	}
	if (http10 ? asked_keep && !asked_close : !asked_close)
		return 0;
	/* Every line but Connection; then Connection with the other tokens
	 * (and keep-alive for HTTP/1.0), if any; then the empty line. */
	for (line = data; line < end + 2; line = eol + 2) {
		size_t n;

		eol = line_end(line, end + 2);	/* found by the first pass */
		n = (size_t)(eol - line) + 2;
		if (!header_is(line, n - 2, "Connection") && !append(out, outcap, &used, line, n))
			return 0;
	}
	if (http10 || restlen > 0) {
		if (!append(out, outcap, &used, "Connection: ", 12) ||
		    !append(out, outcap, &used, rest, restlen) ||
		    (http10 && restlen > 0 && !append(out, outcap, &used, ", ", 2)) ||
		    (http10 && !append(out, outcap, &used, "keep-alive", 10)) ||
		    !append(out, outcap, &used, "\r\n", 2))
			return 0;
	}
	if (!append(out, outcap, &used, "\r\n", 2))
		return 0;
	return used;
}
