/*
 * stats_reader.c: finds, reads and validates statistics segments (see
 * stats_reader.h for the API, stats_layout.h for the layout).
 *
 * Reading a segment is three steps, each trusting only what the one before
 * established:
 *   read_whole_file()  a regular file of ours, of sane size, copied whole
 *                      into a buffer of exactly the size read;
 *   check_header()     magic, version and the sizes the layout fixes, then
 *                      every count and size in the header against those
 *                      constants and against the bytes actually read;
 *   copy_records()     only the claimed records, only those published.
 * The buffer is never indexed beyond what check_header() has proved to be
 * inside it, so a short or hostile file ends in an error message.  The
 * last two steps are stats_parse_segment(), which works on any buffer, so
 * the fuzz target (tests/fuzz/fuzz_segment.c) drives exactly this code.
 *
 * Counters are copied by read() rather than by the relaxed atomic loads
 * stats_layout.h asks of readers: mapping the file instead would let a
 * writer that truncates it kill us with SIGBUS.  The kernel's copy of an
 * aligned 8-byte counter is in practice not torn, but no rule promises it:
 * a value read while it changes may, rarely, be off.
 */
#include "stats_reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Formats a reason into err and fails with errno = errnum. */
__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = errnum;
	return -1;
}

static int fail_open(char *err, size_t errlen, int errnum)
{
	/* O_NOFOLLOW reports a symbolic link as ELOOP, whose own text ("Too
	 * many levels of symbolic links") would mislead. */
	if (errnum == ELOOP)
		return fail(err, errlen, errnum, "is a symbolic link; refused");
	return fail(err, errlen, errnum, "%s", strerror(errnum));
}

/* Checks what fstat() says about the file before a byte of it is read. */
static int check_file(const struct stat *st, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode))
		return fail(err, errlen, EINVAL, "not a regular file");
	/* Anyone can create a file under our name in /dev/shm. */
	if (st->st_uid != getuid())
		return fail(err, errlen, EINVAL, "owned by uid %u, not by you (uid %u)",
			    (unsigned)st->st_uid, (unsigned)getuid());
	if (st->st_size > (off_t)STATS_SEGMENT_MAX_BYTES)
		return fail(err, errlen, EINVAL, "too large: %lld bytes, a segment is at most %u",
			    (long long)st->st_size, STATS_SEGMENT_MAX_BYTES);
	return 0;
}

/* Copies the file into a malloc'd buffer of exactly the bytes read. */
static int read_whole_file(const char *path, unsigned char **bufp, size_t *lenp,
			   char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t want, len = 0;
	struct stat st;
	int fd, saved;

	/* O_NONBLOCK: a FIFO planted under a segment's name must not hang us
	 * in open(); check_file() then refuses it.  A regular file ignores it. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fail_open(err, errlen, errno);
	if (fstat(fd, &st) != 0) {
		fail_open(err, errlen, errno);
		goto fail;
	}
	if (check_file(&st, err, errlen) != 0)
		goto fail;
	want = (size_t)st.st_size;
	buf = malloc(want > 0 ? want : 1);
	if (buf == NULL) {
		fail_open(err, errlen, errno);
		goto fail;
	}
	while (len < want) {
		ssize_t n = read(fd, buf + len, want - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_open(err, errlen, errno);
			goto fail;
		}
		if (n == 0)	/* shrank since fstat(): judge what is there */
			break;
		len += (size_t)n;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;

fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

/* Validates the header h of a file of len bytes: afterwards the whole
 * table it describes is known to lie inside those bytes. */
static int check_header(const struct sp_stats_header *h, size_t len,
			char *err, size_t errlen)
{
	uint64_t expected;

	if (h->magic == 0)
		return fail(err, errlen, EINVAL,
			    "no magic number (not a segment, or one still being created)");
	if (h->magic != SP_STATS_MAGIC)
		return fail(err, errlen, EINVAL,
			    "bad magic 0x%016" PRIx64 ": not a sockpool statistics segment",
			    h->magic);
	if (h->version != SP_STATS_VERSION)
		return fail(err, errlen, EINVAL, "layout version %" PRIu32 ", this reader knows %u",
			    h->version, SP_STATS_VERSION);
	if (h->header_size != sizeof(*h))
		return fail(err, errlen, EINVAL, "header size %" PRIu32 ", expected %zu",
			    h->header_size, sizeof(*h));
	if (h->dest_record_size != sizeof(struct sp_stats_dest))
		return fail(err, errlen, EINVAL, "destination record size %" PRIu32 ", expected %zu",
			    h->dest_record_size, sizeof(struct sp_stats_dest));
	if (h->max_dests > SP_STATS_MAX_DESTS)
		return fail(err, errlen, EINVAL,
			    "table of %" PRIu32 " destinations, more than the %u allowed",
			    h->max_dests, SP_STATS_MAX_DESTS);
	/* Cannot overflow: max_dests is bounded just above. */
	expected = sizeof(*h) + (uint64_t)h->max_dests * sizeof(struct sp_stats_dest);
	if (h->total_size != expected)
		return fail(err, errlen, EINVAL,
			    "total size %" PRIu64 ", but %" PRIu32 " destinations make %" PRIu64,
			    h->total_size, h->max_dests, expected);
	if (h->total_size > len)
		return fail(err, errlen, EINVAL, "truncated: %zu bytes, the segment needs %" PRIu64,
			    len, h->total_size);
	if (h->ndests > h->max_dests)
		return fail(err, errlen, EINVAL,
			    "%" PRIu32 " destinations claimed in a table of %" PRIu32,
			    h->ndests, h->max_dests);
	/* kill(0 or negative, 0) would ask about whole process groups. */
	if (h->pid <= 0)
		return fail(err, errlen, EINVAL, "bad pid %" PRId32, h->pid);
	if (memchr(h->program, '\0', sizeof(h->program)) == NULL)
		return fail(err, errlen, EINVAL, "program name is not NUL-terminated");
	return 0;
}

/* Copies the published records among the ndests claimed ones. */
static int copy_records(const unsigned char *table, const struct sp_stats_header *h,
			struct stats_snapshot *out, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < h->ndests; i++) {
		struct sp_stats_dest r;

		memcpy(&r, table + (size_t)i * sizeof(r), sizeof(r));
		if (r.in_use != 1)	/* claimed, not yet published */
			continue;
		if (r.family != AF_INET && r.family != AF_INET6)
			return fail(err, errlen, EINVAL,
				    "destination %" PRIu32 ": address family %u is neither IPv4 nor IPv6",
				    i, (unsigned)r.family);
		out->dests[out->ndests++] = r;
	}
	return 0;
}

int stats_parse_segment(const void *image, size_t len, struct stats_snapshot *out,
			char *err, size_t errlen)
{
	const unsigned char *buf = image;
	struct sp_stats_header h;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return fail(err, errlen, EINVAL, "truncated: %zu bytes, the header needs %zu",
			    len, sizeof(h));
	memcpy(&h, buf, sizeof(h));
	if (check_header(&h, len, err, errlen) != 0 ||
	    copy_records(buf + sizeof(h), &h, out, err, errlen) != 0) {
		int saved = errno;

		memset(out, 0, sizeof(*out));
		errno = saved;
		return -1;
	}
	out->pid = h.pid;
	out->start_time_ns = h.start_time_ns;
	memcpy(out->program, h.program, sizeof(out->program));
	out->max_dests = h.max_dests;
	out->totals = h.global;
	return 0;
}

int stats_read_segment(const char *path, struct stats_snapshot *out,
		       char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc, saved;

	memset(out, 0, sizeof(*out));
	if (read_whole_file(path, &buf, &len, err, errlen) != 0)
		return -1;
	rc = stats_parse_segment(buf, len, out, err, errlen);
	saved = errno;
	free(buf);
	errno = saved;
	if (rc == 0)
		out->alive = stats_pid_alive(out->pid);
	return rc;
}

/* A plain decimal number <= max at *s, without sign or leading zero (so
 * that one process has one name).  Advances *s past it.  0 or -1. */
static int parse_decimal(const char **s, uint64_t max, uint64_t *value)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (v > (max - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*s = p;
	*value = v;
	return 0;
}

int stats_parse_segment_name(const char *name, uid_t *uid, pid_t *pid)
{
	const char *p = name;
	uint64_t u, n;

	if (strncmp(p, SP_STATS_FILE_PREFIX, strlen(SP_STATS_FILE_PREFIX)) != 0)
		return -1;
	p += strlen(SP_STATS_FILE_PREFIX);
	/* (uid_t)-1 is no one's uid; the header's pid is an int32_t. */
	if (parse_decimal(&p, (uid_t)-1 - 1, &u) != 0 || *p++ != '.' ||
	    parse_decimal(&p, INT32_MAX, &n) != 0 || *p != '\0' || n == 0)
		return -1;
	*uid = (uid_t)u;
	*pid = (pid_t)n;
	return 0;
}

int stats_segment_path(char *buf, size_t len, const char *dir, uid_t uid,
		       pid_t pid)
{
	int n = snprintf(buf, len, "%s/" SP_STATS_FILE_PREFIX "%u.%d", dir,
			 (unsigned)uid, (int)pid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int compare_pids(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int stats_list_segments(const char *dir, pid_t **pids, size_t *count,
			char *err, size_t errlen)
{
	pid_t *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	uid_t me = getuid();
	DIR *d;
	int saved;

	*pids = NULL;
	*count = 0;
	d = opendir(dir);
	if (d == NULL)
		return fail(err, errlen, errno, "%s", strerror(errno));
	for (;;) {
		uid_t uid;
		pid_t pid;

		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (stats_parse_segment_name(de->d_name, &uid, &pid) != 0 || uid != me)
			continue;
		if (n == cap) {
			size_t ncap = cap > 0 ? cap * 2 : 16;
			pid_t *bigger = realloc(list, ncap * sizeof(*list));

			if (bigger == NULL)
				break;	/* errno is ENOMEM */
			list = bigger;
			cap = ncap;
		}
		list[n++] = pid;
	}
	if (errno != 0) {
		saved = errno;
		free(list);
		closedir(d);
		return fail(err, errlen, saved, "%s", strerror(saved));
	}
	closedir(d);
	if (n > 0)
		qsort(list, n, sizeof(*list), compare_pids);
	*pids = list;
	*count = n;
	return 0;
}

bool stats_counter_is_gauge(enum sp_counter c)
{
	return c == SP_IDLE_NOW || c == SP_IN_USE_NOW;
}

uint64_t stats_add_saturated(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t stats_hist_total(const uint64_t h[SP_HIST_BUCKETS])
{
	uint64_t n = 0;

	for (unsigned b = 0; b < SP_HIST_BUCKETS; b++)
		n = stats_add_saturated(n, h[b]);
	return n;
}

uint64_t stats_bucket_upper_us(unsigned b)
{
	return b + 1 < SP_HIST_BUCKETS ? (uint64_t)2 << b : UINT64_MAX;
}

/*
 * The rank of the q-quantile among n observations is ceil(q * n), at
 * least 1: the observation at least a fraction q of all are at or below.
 * Its bucket is the first whose cumulative count reaches that rank.
 * Counters come from an untrusted file, so the cumulative sum saturates
 * instead of wrapping, and the double is clamped before it is converted
 * (converting one beyond the range of uint64_t is undefined).  The
 * rounding up is done by hand: no libm for one ceil().
 */
int stats_hist_quantile_bucket(const uint64_t h[SP_HIST_BUCKETS], double q)
{
	uint64_t n = stats_hist_total(h), rank, seen = 0;
	double r;

	if (n == 0 || !(q > 0.0))
		return -1;
	r = q * (double)n;
	rank = n;
	if (r < (double)n) {
		rank = (uint64_t)r;
		if ((double)rank < r)
			rank++;
		if (rank == 0)
			rank = 1;
	}
	for (unsigned b = 0; b < SP_HIST_BUCKETS; b++) {
		seen = stats_add_saturated(seen, h[b]);
		if (seen >= rank)
			return (int)b;
	}
	return (int)SP_HIST_BUCKETS - 1;	/* not reached: seen ends at n */
}

bool stats_pid_alive(pid_t pid)
{
	if (pid <= 0)
		return false;
	return kill(pid, 0) == 0 || errno == EPERM;
}
