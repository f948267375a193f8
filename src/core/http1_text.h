/*
 * http1_text.h: reading HTTP/1.x text, shared by the tracker (http1.c),
 * its fast scanner (http1_fast.c) and the request rewrite
 * (http1_rewrite.c): where a line and a header section end, which methods
 * are idempotent, which request a response answers.
 */
#ifndef SOCKPOOL_CORE_HTTP1_TEXT_H
#define SOCKPOOL_CORE_HTTP1_TEXT_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http1.h"

/* The CR of the CRLF that ends the line at p, found before limit (which
 * a CRLF is known to precede); NULL for a bare LF. */
static inline const char *line_end(const char *p, const char *limit)
{
	const char *lf = memchr(p, '\n', (size_t)(limit - p));

	return lf != NULL && lf > p && lf[-1] == '\r' ? lf - 1 : NULL;
}

/* Where the header section at data ends: its final CRLF CRLF, or NULL
 * when it is not all there.  (memchr over lines: glibc's memmem sets up a
 * two-way search that costs more than the few lines of a head.) */
static inline const char *header_section_end(const char *data, size_t len)
{
	const char *p = data, *end = data + len, *lf;

	while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (lf - data >= 3 && memcmp(lf - 3, "\r\n\r\n", 4) == 0)
			return lf - 3;
		p = lf + 1;
	}
	return NULL;
}

static inline bool method_is_idempotent(unsigned method)
{
	return method == HTTP_GET || method == HTTP_HEAD || method == HTTP_OPTIONS ||
	       method == HTTP_TRACE || method == HTTP_PUT || method == HTTP_DELETE;
}

#define IDEMPOTENCY_KEY "idempotency-key"

/* The method of the oldest request still waiting for its final response. */
static inline int awaited_method(const struct http1_tracker *t)
{
	if (t->responses_done >= t->requests_started)
		return -1;
	return t->methods[t->responses_done % HTTP1_MAX_OUTSTANDING];
}

/* The Keep-Alive value collected in t->header_value, read into the
 * tracker. */
static inline void keep_alive_header_done(struct http1_tracker *t)
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

#endif
