/*
 * http1_rewrite.c: the request head rewrite of http1_rewrite.h.
 */
#include "http1_rewrite.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http1_text.h"

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
