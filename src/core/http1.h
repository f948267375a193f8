/*
 * http1.h: following an HTTP/1.x conversation byte by byte, to know when a
 * connection may be handed to another request.
 *
 * The shim feeds every byte the program sends to the request side and every
 * byte it receives to the response side, split wherever the program's
 * calls split them.  The tracker never changes a byte; it only answers:
 *  - is this HTTP/1.x at all?  The first bytes decide: anything but a
 *    request line (TLS, SMTP, Redis...) is HTTP1_NOT_HTTP for life;
 *  - is the conversation at a clean boundary: every request sent in full,
 *    every final response received in full, both sides willing to keep
 *    the connection (version, Connection, Keep-Alive: max)?
 *  - how long did the server say it keeps an idle connection (Keep-Alive:
 *    timeout)?
 * Upgrade, CONNECT, parse errors and EOF mid-message make it unusable.
 * Responses are matched to requests in order (pipelining included), which
 * is how a HEAD response is known to have no body.
 */
#ifndef SOCKPOOL_CORE_HTTP1_H
#define SOCKPOOL_CORE_HTTP1_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http1_protocol { HTTP1_UNDECIDED, HTTP1_HTTP, HTTP1_NOT_HTTP };

#define HTTP1_MAX_OUTSTANDING 16	/* pipelined requests we follow */

struct http1_tracker {
	http_parser request_parser;
	http_parser response_parser;
	enum http1_protocol protocol;
	bool unusable;			/* error, upgrade, EOF mid-message */
	bool request_keep_alive;	/* verdict of the last request */
	bool response_keep_alive;	/* verdict of the last final response */
	bool response_interim;		/* current response is 1xx */
	bool response_in_message;	/* a response has begun, not ended */
	uint32_t requests_started;
	uint32_t requests_done;
	uint32_t responses_done;	/* final (non-1xx) responses */
	uint8_t methods[HTTP1_MAX_OUTSTANDING];	/* of requests awaiting answers */
	uint16_t replay_safe;		/* bit per methods[] slot, see below */
	bool request_keyed;		/* current request has Idempotency-Key */
	bool request_in_header_value;
	uint8_t request_header_name_len;
	char request_header_name[16];	/* the request header being read */
	int32_t keep_alive_timeout_s;	/* from Keep-Alive: timeout=, or -1 */
	int32_t keep_alive_max;		/* from Keep-Alive: max=, or -1 */
	/* The response header being read, kept only if it is Keep-Alive. */
	char header_name[12];
	uint8_t header_name_len;
	bool header_is_keep_alive;
	bool in_header_value;
	char header_value[64];
	uint8_t header_value_len;
	/* Body bytes still to come of a response whose head the fast path
	 * read (http1.c): they are counted, not parsed. */
	uint64_t fast_body_left;
	/* The same for the request side: a request's body still to be sent,
	 * and whether http-parser is inside a request (fast path off). */
	uint64_t fast_request_body_left;
	bool request_in_message;
	/* A request carried an Authorization header: NTLM and Negotiate
	 * authenticate the connection, not the request, so such a
	 * connection must never serve another process (broker_client.h).
	 * Any scheme counts: telling them apart is not worth the risk. */
	bool conn_bound_auth;
};

/* Whether plain, whole request and response heads are read by http1.c's
 * own scanner instead of http-parser (true; tests compare the two). */
extern bool http1_fast_path;

void http1_init(struct http1_tracker *t);

/* Bytes the program sent / received, in order. */
void http1_feed_request(struct http1_tracker *t, const char *data, size_t len);
void http1_feed_response(struct http1_tracker *t, const char *data, size_t len);

/* The program read end-of-file from the server. */
void http1_response_eof(struct http1_tracker *t);

/* Marks the conversation as one we cannot follow (the program used a call
 * whose bytes we do not see, shut a direction down, ...). */
void http1_give_up(struct http1_tracker *t);

/* Every request sent in full and answered in full, and both sides keep
 * the connection: it may be reused for a new request. */
bool http1_reusable(const struct http1_tracker *t);

/* Why the connection may not be reused (the one verdict behind
 * http1_reusable), or NULL when it may. */
const char *http1_unreusable_reason(const struct http1_tracker *t);

/* The conversation is HTTP/1.x so far (or not yet known), and followed:
 * sockpool may act on it. */
bool http1_followed(const struct http1_tracker *t);

/* At least one request, every request sent in full, every final response
 * received in full. */
bool http1_all_answered(const struct http1_tracker *t);

/* Every request begun has its final response in full (whether or not the
 * requests' own ends were seen). */
bool http1_all_responses_in(const struct http1_tracker *t);

/* How long the server said it keeps an idle connection (Keep-Alive:
 * timeout=), in ms; -1 when it did not say. */
int64_t http1_announced_idle_ms(const struct http1_tracker *t);

/* A request has begun and its final response is not complete. */
bool http1_in_exchange(const struct http1_tracker *t);

/* Whether every request sent and not yet answered may be sent again
 * (RFC 9110 9.2.2): its headers were seen in full and it is idempotent by
 * its method (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or carries an
 * Idempotency-Key header.  False when no request is outstanding. */
bool http1_outstanding_replay_safe(const struct http1_tracker *t);

/* Whether a request starting with these bytes is idempotent by its method
 * or an Idempotency-Key header among them; false when they are too few to
 * tell.  For deciding before the bytes are sent. */
bool http1_request_looks_idempotent(const char *data, size_t len);

#endif
