/*
 * fuzz_segment.c: libFuzzer target for the statistics segment reader.
 *
 * Every input is a segment image, as read() would give it:
 * stats_parse_segment() must accept it or give a one-line reason, and
 * never read outside it (ASan) or do anything undefined (UBSan).  An
 * accepted image is then written by all three outputs, which must keep
 * their promises whatever the image held: the text only printable ASCII
 * and newlines, the JSON one line without raw control bytes, the
 * Prometheus text only comment and sockpool_ sample lines.
 *
 * Built and run by `make fuzz` (see the Makefile) from seeds that
 * make_seeds.c writes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/stat_output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stats_snapshot snap;

/* Renders v with print into memory; the text, malloc'd. */
static char *render(void (*print)(FILE *, const struct view *), const struct view *v,
		    size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		abort();
	print(f, v);
	if (fclose(f) != 0)
		abort();
	return text;
}

static void print_text(FILE *f, const struct view *v)
{
	static const struct stat_options opt = { .mode = MODE_ONCE, .dir = "/fuzz" };

	text_print_view(f, v, v, &opt);	/* itself as the previous view: rates too */
}

static void check_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\n' && (s[i] < 0x20 || s[i] > 0x7e))
			abort();
}

static void check_json(const char *s, size_t len)
{
	if (len == 0 || s[len - 1] != '\n' || memchr(s, '\n', len) != s + len - 1)
		abort();
	for (size_t i = 0; i < len - 1; i++)
		if ((unsigned char)s[i] < 0x20)
			abort();
}

static void check_prom(const char *s, size_t len)
{
	for (const char *line = s; line < s + len;) {
		const char *end = memchr(line, '\n', (size_t)(s + len - line));

		if (end == NULL)
			abort();	/* every line ends with a newline */
		if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0 &&
		    strncmp(line, "sockpool_", 9) != 0)
			abort();
		for (const char *p = line; p < end; p++)
			if (*p == '\r' || *p == '\0')
				abort();
		line = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct view v = { .procs = &snap, .nprocs = 1, .has_host = true };
	size_t len;
	char *text;

	if (stats_parse_segment(data, size, &snap, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || strchr(err, '\n') != NULL)
			abort();	/* a reason, on one line */
		return 0;
	}
	if (snap.ndests > SP_STATS_MAX_DESTS || snap.pid <= 0 ||
	    memchr(snap.program, '\0', sizeof(snap.program)) == NULL)
		abort();
	snap.alive = size % 2;
	/* Host counts from the image too, for the host line's formatting. */
	memcpy(&v.host.state, data, sizeof(v.host.state) < size ? sizeof(v.host.state) : size);
	text = render(print_text, &v, &len);
	check_text(text, len);
	free(text);
	text = render(json_print_view, &v, &len);
	check_json(text, len);
	free(text);
	text = render(prom_print_view, &v, &len);
	check_prom(text, len);
	free(text);
	return 0;
}
