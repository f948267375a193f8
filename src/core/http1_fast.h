/*
 * http1_fast.h: the tracker's fast scanner for whole, plain heads (see
 * http1_fast.c).  Each reads a head at the start of data and what of its
 * body is there, updating the tracker as http-parser's callbacks would;
 * it returns the bytes it took, or 0 to leave them all to http-parser.
 */
#ifndef SOCKPOOL_CORE_HTTP1_FAST_H
#define SOCKPOOL_CORE_HTTP1_FAST_H

#include <stddef.h>

#include "http1.h"

size_t http1_fast_response(struct http1_tracker *t, const char *data, size_t len);
size_t http1_fast_request(struct http1_tracker *t, const char *data, size_t len);

/* The body a fast head announced has all been counted. */
void http1_fast_response_complete(struct http1_tracker *t);
void http1_fast_request_complete(struct http1_tracker *t);

#endif
