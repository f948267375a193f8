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

#include "http1_fast.h"
#include "http1_text.h"

static struct http1_tracker *tracker_of(http_parser *p)
{
	return p->data;
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

#define IDEMPOTENCY_KEY "idempotency-key"
#define AUTHORIZATION "authorization"

/* Request headers are read only to see Idempotency-Key and
 * Authorization, by name. */
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
	if (t->request_header_name_len == strlen(AUTHORIZATION) &&
	    strncasecmp(t->request_header_name, AUTHORIZATION, strlen(AUTHORIZATION)) == 0)
		t->conn_bound_auth = true;
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
				http1_fast_request_complete(t);
		} else if (!http1_fast_path || t->request_in_message ||
			   (used = http1_fast_request(t, data, len)) == 0) {
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
				http1_fast_response_complete(t);
		} else if (!http1_fast_path || t->response_in_message ||
			   (used = http1_fast_response(t, data, len)) == 0) {
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

const char *http1_unreusable_reason(const struct http1_tracker *t)
{
	if (t->protocol == HTTP1_NOT_HTTP)
		return "not HTTP/1.x";
	if (t->protocol == HTTP1_UNDECIDED || t->requests_done == 0)
		return "no complete request was sent";
	if (t->unusable)
		return "upgrade, CONNECT, EOF or unparsable HTTP";
	if (t->requests_started != t->requests_done || t->responses_done != t->requests_done ||
	    t->response_in_message)
		return "a request or response is incomplete";
	if (!t->request_keep_alive)
		return "the program asked the server to close";
	if (!t->response_keep_alive)
		return "the server announced it closes";
	if (t->keep_alive_max == 0)
		return "the server allows no more requests";
	return NULL;
}

bool http1_reusable(const struct http1_tracker *t)
{
	return http1_unreusable_reason(t) == NULL;
}

bool http1_followed(const struct http1_tracker *t)
{
	return t->protocol != HTTP1_NOT_HTTP && !t->unusable;
}

bool http1_all_answered(const struct http1_tracker *t)
{
	return t->requests_started > 0 && t->requests_done == t->requests_started &&
	       t->responses_done == t->requests_started && !t->response_in_message;
}

bool http1_all_responses_in(const struct http1_tracker *t)
{
	return t->protocol == HTTP1_HTTP && !t->unusable && t->requests_started > 0 &&
	       t->responses_done == t->requests_started && !t->response_in_message;
}

int64_t http1_announced_idle_ms(const struct http1_tracker *t)
{
	return t->keep_alive_timeout_s >= 0 ? (int64_t)t->keep_alive_timeout_s * 1000 : -1;
}
