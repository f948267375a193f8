/*
 * sockpool_stat.c: sockpool-stat, which shows the pooling statistics of
 * the current user's processes running under sockpool.
 *
 * Each refresh is two steps: collect_view() reads the segments into
 * snapshots (src/stats/stats_reader.c does the reading and trusts nothing
 * in a segment), then print_text() or print_json() formats them.  Without
 * --once or --json the refresh repeats every interval until SIGINT or
 * SIGTERM.  Strings from a segment (the program name) are escaped on
 * output: a segment must not be able to drive the terminal or break the
 * JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "../core/dest.h"
#include "../stats/stats_reader.h"

#define ME "sockpool-stat"
#define EXIT_USAGE 2

struct options {
	bool once;
	bool json;
	pid_t pid;		/* 0: every process */
	const char *dir;
	struct timespec interval;
};

struct view_error {
	char file[PATH_MAX];
	char error[256];
};

/* What one refresh found. */
struct view {
	struct stats_snapshot *procs;
	size_t nprocs;
	struct view_error *errors;
	size_t nerrors;
};

static const char *const counter_names[] = {
#define COUNTER_NAME(id, name, help) name,
	SP_COUNTER_LIST(COUNTER_NAME)
#undef COUNTER_NAME
};

static const char *const counter_help[] = {
#define COUNTER_HELP(id, name, help) help,
	SP_COUNTER_LIST(COUNTER_HELP)
#undef COUNTER_HELP
};

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
	fprintf(out,
"Usage: " ME " [options]\n"
"\n"
"Shows how well sockpool pools the connections of your processes that run\n"
"under it (see 'sockpool --help'): for each process and each destination\n"
"it connects to, the counters below, their totals, and the reuse ratio\n"
"(connects served from the pool / all connects).\n"
"\n"
"Each such process keeps its counters in a file sockpool.<uid>.<pid>\n"
"(mode 0600) in /dev/shm, or in SOCKPOOL_STATS_DIR when that is set, and\n"
"removes it when it exits.  A file whose process is gone (killed, crashed)\n"
"is shown as \"dead\" and left alone; remove it by hand.  Only your own\n"
"files are read.\n"
"\n"
"Without --once or --json, the display is redrawn every interval until\n"
"Ctrl-C (SIGINT) or SIGTERM.\n"
"\n"
"Options:\n"
"  --once               print one snapshot and exit\n"
"  --json               print one snapshot as JSON and exit\n"
"  -p, --pid PID        show only process PID\n"
"  -d, --dir DIR        where the files are [$SOCKPOOL_STATS_DIR, else /dev/shm]\n"
"  -i, --interval SECS  seconds between redraws, decimals allowed (0.01-86400) [1]\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n"
"\n"
"Counters (kept per destination and for the whole process):\n");
	for (int c = 0; c < SP_COUNTER_COUNT; c++)
		fprintf(out, "  %-18s %s\n", counter_names[c], counter_help[c]);
	fprintf(out,
"\n"
"JSON (--json), on one line:\n"
"  {\"processes\":[{\"pid\":N,\"program\":S,\"alive\":B,\"start_time_ns\":N,\n"
"    \"totals\":{COUNTER:N...},\n"
"    \"destinations\":[{\"dest\":\"127.0.0.1:80\",\"family\":\"ipv4\"|\"ipv6\",\n"
"      \"address\":S,\"port\":N,COUNTER:N...}]}],\n"
"   \"errors\":[{\"file\":S,\"error\":S}]}\n"
"\n"
"Exit status: 0 on success; 1 when there is no file for the process given\n"
"with -p (or it cannot be read), when the directory cannot be read, or when\n"
"output fails; 2 for a bad option or value.  A file that cannot be read is\n"
"reported on stderr (and in \"errors\" with --json), the others still show,\n"
"and the status stays 0.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(ME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" ME " --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* A pid: plain decimal, 1 to INT32_MAX (what a segment can hold). */
static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > INT32_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* Seconds, decimals allowed, 0.01 to 86400: below that we would spin. */
static int parse_interval(const char *s, struct timespec *ts)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < 0.01 || v > 86400)
		return -1;
	ts->tv_sec = (time_t)v;
	ts->tv_nsec = (long)((v - (double)ts->tv_sec) * 1e9);
	return 0;
}

enum { OPT_ONCE = 256, OPT_JSON };

/* Fills *opt from argv.  -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "pid", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("SOCKPOOL_STATS_DIR");
	int c;

	*opt = (struct options){
		.dir = env != NULL && env[0] != '\0' ? env : "/dev/shm",
		.interval = { .tv_sec = 1 },
	};
	opterr = 0;	/* our own messages, each with the hint to --help */
	while ((c = getopt_long(argc, argv, ":p:d:i:hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ONCE:
			opt->once = true;
			break;
		case OPT_JSON:
			opt->json = opt->once = true;
			break;
		case 'p':
			if (parse_pid(optarg, &opt->pid) != 0)
				return usage_error("bad pid '%s': a process id is wanted", optarg);
			break;
		case 'd':
			if (optarg[0] == '\0')
				return usage_error("empty directory name");
			opt->dir = optarg;
			break;
		case 'i':
			if (parse_interval(optarg, &opt->interval) != 0)
				return usage_error("bad interval '%s': seconds from 0.01 to 86400 are wanted",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		case 'V':
			printf(ME " %s\n", SOCKPOOL_VERSION);
			return fflush(stdout) == 0 ? 0 : 1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			/* getopt_long() leaves optopt 0 for an unknown long
			 * option, sets it to a known option's value for one
			 * given a value it does not take ("--once=1"), and to
			 * the letter of an unknown short option. */
			if (optopt == 0)
				return usage_error("unknown option '%s'", argv[optind - 1]);
			if (strchr("hV", optopt) != NULL || optopt == OPT_ONCE || optopt == OPT_JSON)
				return usage_error("option '%s' takes no value", argv[optind - 1]);
			return usage_error("unknown option '-%c'", optopt);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}

static void add_error(struct view *v, const char *file, const char *error)
{
	struct view_error *e = &v->errors[v->nerrors++];

	snprintf(e->file, sizeof(e->file), "%s", file);
	snprintf(e->error, sizeof(e->error), "%s", error);
}

/*
 * Reads the segment at path, named for name_pid, into the next slot of v.
 * 0: shown; 1: no such file (for a listed one: its process just exited);
 * -1: a bad segment, recorded in v->errors.
 */
static int read_into_view(struct view *v, const char *path, pid_t name_pid)
{
	struct stats_snapshot *s = &v->procs[v->nprocs];
	char err[256];

	if (stats_read_segment(path, s, err, sizeof(err)) != 0) {
		if (errno == ENOENT)
			return 1;
		add_error(v, path, err);
		return -1;
	}
	if (s->pid != name_pid) {
		snprintf(err, sizeof(err), "the header says pid %d, the file name %d",
			 (int)s->pid, (int)name_pid);
		add_error(v, path, err);
		return -1;
	}
	v->nprocs++;
	return 0;
}

/* Room in v for n segments. */
static int view_alloc(struct view *v, size_t n)
{
	*v = (struct view){ 0 };
	if (n == 0)
		n = 1;
	v->procs = calloc(n, sizeof(*v->procs));
	v->errors = calloc(n, sizeof(*v->errors));
	if (v->procs == NULL || v->errors == NULL) {
		fprintf(stderr, ME ": out of memory\n");
		return -1;
	}
	return 0;
}

static void view_free(struct view *v)
{
	free(v->procs);
	free(v->errors);
	*v = (struct view){ 0 };
}

enum collect_result {
	COLLECTED,
	NO_SEGMENT,		/* for -p: the process has no file (left unsaid) */
	COLLECT_FAILED,		/* and said why on stderr */
};

/* The segment of opt->pid only. */
static enum collect_result collect_one(const struct options *opt, struct view *v)
{
	char path[PATH_MAX];
	int rc;

	if (view_alloc(v, 1) != 0)
		return COLLECT_FAILED;
	if (stats_segment_path(path, sizeof(path), opt->dir, getuid(), opt->pid) != 0) {
		fprintf(stderr, ME ": directory name too long: %s\n", opt->dir);
		return COLLECT_FAILED;
	}
	rc = read_into_view(v, path, opt->pid);
	if (rc == 1)
		return NO_SEGMENT;
	if (rc < 0) {
		fprintf(stderr, ME ": %s: %s\n", v->errors[0].file, v->errors[0].error);
		return COLLECT_FAILED;
	}
	return COLLECTED;
}

/* Every segment of ours in opt->dir; fails only when the directory cannot
 * be read. */
static enum collect_result collect_all(const struct options *opt, struct view *v)
{
	char err[256], path[PATH_MAX];
	pid_t *pids;
	size_t n;

	*v = (struct view){ 0 };
	if (stats_list_segments(opt->dir, &pids, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, ME ": %s: %s\n", opt->dir, err);
		return COLLECT_FAILED;
	}
	if (view_alloc(v, n) != 0) {
		free(pids);
		return COLLECT_FAILED;
	}
	for (size_t i = 0; i < n; i++) {
		/* Cannot fail: stats_list_segments() read it from this dir. */
		if (stats_segment_path(path, sizeof(path), opt->dir, getuid(), pids[i]) != 0)
			continue;
		read_into_view(v, path, pids[i]);
	}
	free(pids);
	return COLLECTED;
}

static enum collect_result collect_view(const struct options *opt, struct view *v)
{
	return opt->pid != 0 ? collect_one(opt, v) : collect_all(opt, v);
}

static void print_errors(const struct view *v)
{
	for (size_t i = 0; i < v->nerrors; i++)
		fprintf(stderr, ME ": %s: %s\n", v->errors[i].file, v->errors[i].error);
}

static struct dest_key record_key(const struct sp_stats_dest *r)
{
	struct dest_key key = {
		.family = r->family, .port = r->port, .scope_id = r->scope_id,
	};

	memcpy(key.addr, r->addr, sizeof(key.addr));
	return key;
}

/* ---- text ---- */

/* Prints s with every byte that is not printable ASCII as \xNN, so that a
 * program name cannot send escape sequences to the terminal. */
static void print_sanitized(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			fputc(*p, out);
		else
			fprintf(out, "\\x%02x", *p);
	}
}

static void format_duration(char *buf, size_t len, uint64_t s)
{
	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void print_process_line(FILE *out, const struct stats_snapshot *s)
{
	uint64_t now = now_ns();
	char age[32] = "?";	/* a start in the future: the clock was set back */

	if (now >= s->start_time_ns)
		format_duration(age, sizeof(age), (now - s->start_time_ns) / 1000000000u);
	fprintf(out, "pid %d  ", (int)s->pid);
	print_sanitized(out, s->program[0] != '\0' ? s->program : "?");
	if (s->alive)
		fprintf(out, "  alive  uptime %s\n", age);
	else
		fprintf(out, "  dead  started %s ago\n", age);
}

#define DEST_COLUMN 24

static void print_counter_row(FILE *out, const char *label, const struct sp_stats_counters *c)
{
	fprintf(out, "  %-*s", DEST_COLUMN, label);
	for (int i = 0; i < SP_COUNTER_COUNT; i++)
		fprintf(out, " %*" PRIu64, (int)strlen(counter_names[i]), c->c[i]);
	fputc('\n', out);
}

static void print_reuse(FILE *out, const struct sp_stats_counters *c)
{
	uint64_t opened = c->c[SP_CONNS_OPENED], reused = c->c[SP_CONNS_REUSED];

	if (opened + reused == 0) {
		fprintf(out, "  reuse -  (no connects yet)\n");
		return;
	}
	fprintf(out, "  reuse %.1f%%  (%" PRIu64 " of %" PRIu64 " connects served from the pool)\n",
		100.0 * (double)reused / (double)(opened + reused), reused, opened + reused);
}

static void print_process(FILE *out, const struct stats_snapshot *s)
{
	char dest[DEST_KEY_TEXT_MAX];

	print_process_line(out, s);
	fprintf(out, "  %-*s", DEST_COLUMN, "destination");
	for (int i = 0; i < SP_COUNTER_COUNT; i++)
		fprintf(out, " %s", counter_names[i]);
	fputc('\n', out);
	for (uint32_t i = 0; i < s->ndests; i++) {
		struct dest_key key = record_key(&s->dests[i]);

		dest_key_format(&key, dest, sizeof(dest));
		print_counter_row(out, dest, &s->dests[i].counters);
	}
	if (s->ndests == s->max_dests && s->max_dests > 0)
		fprintf(out, "  (table full: later destinations count in the total only)\n");
	print_counter_row(out, "total", &s->totals);
	print_reuse(out, &s->totals);
}

static void print_text(FILE *out, const struct view *v, const struct options *opt)
{
	if (v->nprocs == 0 && opt->pid == 0)
		fprintf(out, "no sockpool statistics in %s\n", opt->dir);
	for (size_t i = 0; i < v->nprocs; i++) {
		if (i > 0)
			fputc('\n', out);
		print_process(out, &v->procs[i]);
	}
}

/* ---- JSON ---- */

/* The length of the valid UTF-8 sequence at s, or 0 if there is none. */
static size_t utf8_sequence_length(const unsigned char *s)
{
	static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {	/* stops at the NUL too */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond Unicode are not UTF-8. */
	if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* s as a JSON string.  Bytes that are not UTF-8 become U+FFFD, so the
 * document stays valid whatever a segment holds. */
static void json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p != '\0') {
		size_t n = utf8_sequence_length(p);

		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
		} else if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, n, out);
			p += n;
		}
	}
	fputc('"', out);
}

static void json_counters(FILE *out, const struct sp_stats_counters *c)
{
	for (int i = 0; i < SP_COUNTER_COUNT; i++)
		fprintf(out, "%s\"%s\":%" PRIu64, i > 0 ? "," : "", counter_names[i], c->c[i]);
}

static void json_destination(FILE *out, const struct sp_stats_dest *r)
{
	struct dest_key key = record_key(r);
	char dest[DEST_KEY_TEXT_MAX], addr[INET6_ADDRSTRLEN];

	dest_key_format(&key, dest, sizeof(dest));
	/* Cannot fail: the reader admits only these two families. */
	if (inet_ntop(r->family, r->addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	fputs("{\"dest\":", out);
	json_string(out, dest);
	fprintf(out, ",\"family\":\"%s\",\"address\":", r->family == AF_INET6 ? "ipv6" : "ipv4");
	json_string(out, addr);
	fprintf(out, ",\"port\":%u,", (unsigned)r->port);
	json_counters(out, &r->counters);
	fputc('}', out);
}

static void json_process(FILE *out, const struct stats_snapshot *s)
{
	fprintf(out, "{\"pid\":%d,\"program\":", (int)s->pid);
	json_string(out, s->program);
	fprintf(out, ",\"alive\":%s,\"start_time_ns\":%" PRIu64 ",\"totals\":{",
		s->alive ? "true" : "false", s->start_time_ns);
	json_counters(out, &s->totals);
	fputs("},\"destinations\":[", out);
	for (uint32_t i = 0; i < s->ndests; i++) {
		if (i > 0)
			fputc(',', out);
		json_destination(out, &s->dests[i]);
	}
	fputs("]}", out);
}

static void print_json(FILE *out, const struct view *v)
{
	fputs("{\"processes\":[", out);
	for (size_t i = 0; i < v->nprocs; i++) {
		if (i > 0)
			fputc(',', out);
		json_process(out, &v->procs[i]);
	}
	fputs("],\"errors\":[", out);
	for (size_t i = 0; i < v->nerrors; i++) {
		fprintf(out, "%s{\"file\":", i > 0 ? "," : "");
		json_string(out, v->errors[i].file);
		fputs(",\"error\":", out);
		json_string(out, v->errors[i].error);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

/* ---- running ---- */

static int finish_output(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, ME ": cannot write the output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static void say_no_segment(const struct options *opt)
{
	fprintf(stderr, ME ": no statistics for pid %d in %s (not running under sockpool,"
		" statistics off, or another directory?)\n", (int)opt->pid, opt->dir);
}

static int show_once(const struct options *opt)
{
	struct view v;
	enum collect_result got = collect_view(opt, &v);
	int rc = 1;

	if (got == NO_SEGMENT)
		say_no_segment(opt);
	if (got == COLLECTED) {
		/* collect_one() has said what was wrong with its file. */
		if (opt->pid == 0)
			print_errors(&v);
		if (opt->json)
			print_json(stdout, &v);
		else
			print_text(stdout, &v, opt);
		rc = finish_output();
	}
	view_free(&v);
	return rc;
}

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * SIGINT and SIGTERM stay blocked except inside ppoll(), which unblocks
 * them atomically: one that arrives while a frame is drawn is taken at the
 * next wait instead of being slept through.  *wait_mask gets the mask to
 * wait with.
 */
static void catch_stop_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigset_t stops;

	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigprocmask(SIG_BLOCK, &stops, wait_mask);
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void print_frame_heading(FILE *out, const struct options *opt)
{
	char clock[16] = "";
	time_t t = time(NULL);
	struct tm tm;

	if (localtime_r(&t, &tm) != NULL)
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	fprintf(out, ME " %s  %s  every %g s, Ctrl-C quits\n\n", clock, opt->dir,
		(double)opt->interval.tv_sec + (double)opt->interval.tv_nsec / 1e9);
}

static int run_loop(const struct options *opt)
{
	bool tty = isatty(STDOUT_FILENO);
	sigset_t wait_mask;

	catch_stop_signals(&wait_mask);
	for (unsigned frame = 0; !stop_requested; frame++) {
		struct view v;
		enum collect_result got = collect_view(opt, &v);

		if (got != COLLECTED)
			view_free(&v);
		if (got == COLLECT_FAILED)
			return 1;
		if (got == NO_SEGMENT && frame == 0) {
			say_no_segment(opt);
			return 1;
		}
		if (got == NO_SEGMENT) {
			/* The process asked for with -p exited while we watched:
			 * the end of the show, not an error. */
			printf("pid %d has exited\n", (int)opt->pid);
			return finish_output();
		}
		if (tty)
			fputs("\033[H\033[J", stdout);
		else if (frame > 0)
			fputc('\n', stdout);
		/* The screen is cleared before errors go to stderr, so that
		 * they stay visible on a terminal. */
		fflush(stdout);
		print_errors(&v);
		print_frame_heading(stdout, opt);
		print_text(stdout, &v, opt);
		view_free(&v);
		if (finish_output() != 0)
			return 1;
		ppoll(NULL, 0, &opt->interval, &wait_mask);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	int rc = parse_options(argc, argv, &opt);

	if (rc >= 0)
		return rc;
	return opt.once ? show_once(&opt) : run_loop(&opt);
}
