/*
 * stat_escape.h: how strings that come from a segment (the program name)
 * or from the file system (a path) are written out.  A segment is
 * untrusted: its bytes must not drive the terminal, break the JSON
 * document or forge a Prometheus sample, whatever they are.
 */
#ifndef SOCKPOOL_CLI_STAT_ESCAPE_H
#define SOCKPOOL_CLI_STAT_ESCAPE_H

#include <stdio.h>

/* s with every byte that is not printable ASCII, and the backslash, as
 * \xNN: no escape sequence reaches the terminal, and every byte written
 * is one column wide. */
void escape_terminal(FILE *out, const char *s);

/* s as a JSON string, quotes included.  Bytes that are not UTF-8 become
 * U+FFFD, so the document stays valid. */
void escape_json_string(FILE *out, const char *s);

/* s as the inside of a Prometheus label value (no quotes): backslash,
 * double quote and newline escaped as the text format wants, bytes that
 * are not UTF-8 and other control characters as U+FFFD. */
void escape_prom_label(FILE *out, const char *s);

#endif
