/*
 * response_close.c: a byte-at-a-time walk over a response head that
 * overwrites Connection and Keep-Alive values (see response_close.h).
 *
 * The walk keeps only a few bytes of state, so a head split at any byte
 * comes out exactly as the same head read whole.
 */
#include "response_close.h"

#include <string.h>

enum {
	RC_STATUS,	/* in the status line */
	RC_LINE_START,	/* at the first byte of a header line, or the end */
	RC_NAME,	/* in a header name */
	RC_VALUE,	/* in the value of a header being rewritten */
	RC_OTHER,	/* in a line left alone */
	RC_END_CR,	/* after the CR of the empty line */
	RC_DONE,	/* past the final response's head */
};

enum { FIELD_NONE, FIELD_CONNECTION, FIELD_KEEP_ALIVE };

static const char *const field_names[] = {
	[FIELD_CONNECTION] = "connection",
	[FIELD_KEEP_ALIVE] = "keep-alive",
};
#define FIELD_NAME_LEN 10	/* both names */
#define ALL_CANDIDATES ((1u << FIELD_CONNECTION) | (1u << FIELD_KEEP_ALIVE))

void response_close_init(struct response_close *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->state = RC_STATUS;
}

bool response_close_done(const struct response_close *rc)
{
	return rc->state == RC_DONE;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The empty line: a 1xx head is followed by another response's head. */
static void end_of_head(struct response_close *rc)
{
	if (rc->interim) {
		response_close_init(rc);
		return;
	}
	rc->state = RC_DONE;
}

static void name_byte(struct response_close *rc, char c)
{
	if (c == ':') {
		rc->field = FIELD_NONE;
		for (unsigned f = FIELD_CONNECTION; f <= FIELD_KEEP_ALIVE; f++)
			if ((rc->candidates & (1u << f)) && rc->name_len == FIELD_NAME_LEN)
				rc->field = (uint8_t)f;
		rc->value_pos = 0;
		rc->state = rc->field != FIELD_NONE ? RC_VALUE : RC_OTHER;
		return;
	}
	if (c == '\n') {
		rc->state = RC_LINE_START;
		return;
	}
	for (unsigned f = FIELD_CONNECTION; f <= FIELD_KEEP_ALIVE; f++)
		if (rc->name_len >= FIELD_NAME_LEN || lower(c) != field_names[f][rc->name_len])
			rc->candidates &= (uint8_t)~(1u << f);
	if (rc->name_len <= FIELD_NAME_LEN)
		rc->name_len++;
}

/* Returns the byte to put in place of c. */
static char value_byte(struct response_close *rc, char c)
{
	static const char close_word[] = "close";

	if (c == '\n') {
		rc->state = RC_LINE_START;
		return c;
	}
	if (c == '\r')
		return c;
	if (rc->field == FIELD_CONNECTION && rc->value_pos < sizeof(close_word) - 1)
		c = close_word[rc->value_pos];
	else
		c = ' ';
	if (rc->value_pos < UINT8_MAX)
		rc->value_pos++;
	return c;
}

static void line_start_byte(struct response_close *rc, char *c)
{
	if (*c == '\r') {
		rc->state = RC_END_CR;
	} else if (*c == '\n') {
		end_of_head(rc);
	} else if ((*c == ' ' || *c == '\t') && rc->field != FIELD_NONE) {
		/* obs-fold: the value of the header being rewritten goes on */
		rc->state = RC_VALUE;
		*c = value_byte(rc, *c);
	} else if (*c == ' ' || *c == '\t') {
		rc->state = RC_OTHER;
	} else {
		rc->state = RC_NAME;
		rc->field = FIELD_NONE;
		rc->name_len = 0;
		rc->candidates = ALL_CANDIDATES;
		name_byte(rc, *c);
	}
}

void response_close_apply(struct response_close *rc, char *buf, size_t len)
{
	for (size_t i = 0; i < len && rc->state != RC_DONE; i++) {
		char c = buf[i];

		switch (rc->state) {
		case RC_STATUS:
			/* "HTTP/1.1 1xx": the status code's first digit is byte 9 */
			if (rc->status_pos == 9)
				rc->interim = c == '1';
			if (rc->status_pos < UINT8_MAX)
				rc->status_pos++;
			if (c == '\n')
				rc->state = RC_LINE_START;
			break;
		case RC_LINE_START:
			line_start_byte(rc, &buf[i]);
			break;
		case RC_NAME:
			name_byte(rc, c);
			break;
		case RC_VALUE:
			buf[i] = value_byte(rc, c);
			break;
		case RC_OTHER:
			if (c == '\n')
				rc->state = RC_LINE_START;
			break;
		case RC_END_CR:
			end_of_head(rc);
			break;
		}
	}
}
