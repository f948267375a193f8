/*
 * http1_rewrite.h: a request that asks the server to close, rewritten to
 * keep the connection (used by rewrite.c; see rewrite.h for the rules).
 */
#ifndef SOCKPOOL_CORE_HTTP1_REWRITE_H
#define SOCKPOOL_CORE_HTTP1_REWRITE_H

#include <stddef.h>

/* Rewrites a request that asks the server to close (HTTP/1.1 with
 * "Connection: close", or HTTP/1.0 without "Connection: keep-alive") into
 * one that keeps the connection.  data holds the start of the request;
 * only its header section is rewritten, and only when it is complete in
 * data (through the empty line) and has nothing the rewrite could change
 * the meaning of (other Connection tokens, Upgrade).  Writes the new
 * header section to out and returns its length, and *header_len the
 * length of the section it replaces; 0 when there is nothing to rewrite
 * (or it does not fit in outcap). */
size_t http1_rewrite_keep_alive(const char *data, size_t len, char *out, size_t outcap,
				size_t *header_len);

#endif
