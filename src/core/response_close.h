/*
 * response_close.h: the answer a program gets to a request sockpool
 * rewrote to keep the connection says "close", as the program asked.
 *
 * The server answered a request that asked to keep the connection, so its
 * response may say "Connection: keep-alive" and announce "Keep-Alive:
 * timeout=5".  A client that trusts the response (Python's http.client,
 * aiohttp) would then keep the fd, which sockpool turns into an
 * end-of-file socket once the response is complete, and fail its next
 * request.  So in the response head of a rewritten exchange, every
 * Connection header value is overwritten with "close" and blanks, and
 * every Keep-Alive header value with blanks: the same length, so nothing
 * moves, no byte is held back, and the bytes the program reads are
 * exactly as many as the server sent.  (RFC 9110 allows trailing blanks
 * in a field value; an empty Keep-Alive announces nothing.)
 *
 * The head is rewritten as it streams past, split wherever the program's
 * reads split it; 1xx interim responses are passed over to the final
 * one's head.  Bytes after the final head (the body) are never touched.
 * The server's original bytes are what the tracker reads (it must know
 * the server keeps the connection); this runs after it.
 *
 * Left as the server sent it: a Connection value shorter than "close"
 * (after the colon, blanks included; no real server sends one), and a
 * response head with no Connection header at all (an HTTP/1.1 server
 * that keeps connections by default): there is no room to add one.
 */
#ifndef SOCKPOOL_CORE_RESPONSE_CLOSE_H
#define SOCKPOOL_CORE_RESPONSE_CLOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct response_close {
	uint8_t state;		/* where in the head the next byte falls */
	uint8_t name_len;	/* bytes of the header name matched so far */
	uint8_t candidates;	/* names the header may still be, a bit each */
	uint8_t value_pos;	/* bytes of the value written so far */
	uint8_t status_pos;	/* bytes of the status line read so far */
	bool interim;		/* the response being read is 1xx */
	uint8_t field;		/* the header whose value is being rewritten */
};

/* Starts over at the beginning of a response. */
void response_close_init(struct response_close *rc);

/* Rewrites len bytes of the response, in place, and advances. */
void response_close_apply(struct response_close *rc, char *buf, size_t len);

/* Whether the head of the final response has been passed. */
bool response_close_done(const struct response_close *rc);

#endif
