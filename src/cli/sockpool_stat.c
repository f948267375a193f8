/*
 * sockpool_stat.c: sockpool-stat, which shows the pooling statistics of
 * the current user's processes running under sockpool.  This file reads
 * the command line and hands over to one mode:
 *
 *   live view (default)      stat_live.c, drawing with stat_text.c
 *   --once, --json,          one view (stat_view.c) printed by stat_text.c,
 *   --prometheus             stat_json.c or stat_prom.c
 *   --gc                     stat_gc.c
 *   --summary                stat_summary.c (for `sockpool --summary`)
 *
 * Segments are read by src/stats/stats_reader.c, which trusts nothing in
 * them; strings from a segment are escaped on output (stat_escape.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stat_modes.h"
#include "stat_output.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fprintf(out,
"Usage: " ME " [options]\n"
"\n"
"Shows how well sockpool pools the connections of your processes that run\n"
"under it (see 'sockpool --help'): for each process, a row per destination\n"
"it connects to and a total, under a line with the host's TCP sockets by\n"
"state (from /proc/net/tcp and tcp6 of this network namespace: what\n"
"'netstat -nat' counts).\n"
"\n"
"Each such process keeps its counters in a file sockpool.<uid>.<pid>\n"
"(mode 0600) in /dev/shm, or in SOCKPOOL_STATS_DIR when that is set, made\n"
"when it first pools a connection and removed when it exits.  A file\n"
"whose process is gone (killed, crashed) is shown as \"dead\"; --gc removes\n"
"such files.  Only your own files are read, and each is checked before\n"
"use: a bad one gives a one-line error and the others still show.\n"
"\n"
"Without --once, --json or --prometheus the view is redrawn every\n"
"interval: on a terminal in place (q or Ctrl-C quits), else as blocks of\n"
"lines.\n"
"\n"
"Options:\n"
"  --once               print the view once and exit\n"
"  --json               print it once as JSON (schema below)\n"
"  --prometheus         print it once in the Prometheus text format\n"
"  --gc                 remove the files of dead processes; say which\n"
"  --summary            one line for everything in DIR (used by\n"
"                       'sockpool --summary'), dead processes included\n"
"    --since NS         with --summary: only processes started since NS\n"
"                       (nanoseconds since the epoch)\n"
"    --remove           with --summary: then remove the dead ones counted\n"
"    --command-status N, --command-signal N\n"
"                       with --summary: the command exited with status N (0-255),\n"
"                       or was killed by signal N; a status other than 0 and a\n"
"                       signal are named at the end of the line\n"
"  -p, --pid PID        only process PID\n"
"  -d, --dir DIR        where the files are [$SOCKPOOL_STATS_DIR, else /dev/shm]\n"
"  -i, --interval SECS  seconds between redraws, decimals allowed (0.01-86400) [1]\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n"
"\n"
"Columns of the view (counts since the process started; /s: per second\n"
"since the previous redraw):\n"
"  requests, req/s      HTTP requests sent\n"
"  opened, open/s       connections opened\n"
"  reused, reuse        connects served from the pool; their share of all\n"
"                       connects (rounded down)\n"
"  idle, inuse          idle sockets in the pool now; managed connections\n"
"                       open now\n"
"  retries              failed connects tried again + requests sent again\n"
"  errors               errors handed to the program\n"
"  req p50, p99         request time (first byte sent to response complete)\n"
"  conn p50, p99        time to connect a new connection\n"
"A line under the total counts the connections not pooled because the\n"
"program set a socket option sockpool cannot carry (sockpool -v names it).\n"
"Latencies are kept in log2 buckets (bucket b: 2^b to 2^(b+1) us).  A\n"
"percentile q of n values is read from the first bucket whose cumulative\n"
"count reaches ceil(q*n), and shown as that bucket's upper bound: the\n"
"true value is below it and at least half of it.\n"
"\n"
"Counters (per destination and for the whole process; in JSON and\n"
"Prometheus):\n");
	for (int c = 0; c < SP_COUNTER_COUNT; c++)
		fprintf(out, "  %-18s %s%s\n", counter_names[c], counter_help[c],
			stats_counter_is_gauge((enum sp_counter)c) ? " (gauge)" : "");
	fprintf(out, "Histograms (32 log2 buckets of microseconds):\n");
	for (int h = 0; h < SP_HIST_COUNT; h++)
		fprintf(out, "  %-18s %s\n", hist_names[h], hist_help[h]);
	fprintf(out,
"\n"
"JSON (--json), one document on one line; keys are only ever added:\n"
"  {\"schema\":5, \"layout_version\":6, \"time_ns\":N,\n"
"   \"host\":{\"tcp_states\":{\"ESTABLISHED\":N,...},\"unparsed_lines\":N,\"cut\":B}\n"
"          or {\"error\":S},\n"
"   \"histogram_buckets_us\":[2,4,...,2147483648,null]  (upper bounds),\n"
"   \"processes\":[{\"pid\":N,\"program\":S,\"alive\":B,\"start_time_ns\":N,\n"
"     \"max_destinations\":N, \"totals\":{COUNTER:N,...},\n"
"     \"histograms\":{HISTOGRAM:[32 counts],...},\n"
"     \"destinations\":[{\"dest\":\"127.0.0.1:80\",\"family\":\"ipv4\"|\"ipv6\",\n"
"       \"address\":S,\"port\":N,COUNTER:N,...,\"histograms\":{...}}]}],\n"
"   \"errors\":[{\"file\":S,\"error\":S}]}\n"
"\n"
"Prometheus (--prometheus), for node_exporter's textfile collector:\n"
"  sockpool_COUNTER_total{pid,program,dest}    counters\n"
"  sockpool_idle_now, sockpool_in_use_now      gauges, same labels\n"
"  sockpool_connect_seconds, sockpool_request_seconds,\n"
"  sockpool_idle_age_seconds                   histograms (_bucket, _count;\n"
"                                              no _sum: none is kept)\n"
"  sockpool_process_alive{pid,program}, sockpool_process_start_time_seconds,\n"
"  sockpool_segment_errors, sockpool_host_tcp_sockets{state}\n"
"  A full table's later destinations show as dest=\"other\".\n"
"\n"
"Exit status: 0 on success; 1 when there is no file for the process given\n"
"with -p (or it cannot be read), when the directory cannot be read, when\n"
"--gc cannot remove a file, or when output fails; 2 for a bad option or\n"
"value.  A file that cannot be read is reported on stderr (and in\n"
"\"errors\" with --json), the others still show, and the status stays 0.\n");
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

/* A whole number from min to max: plain decimal. */
static int parse_small(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* Nanoseconds since the epoch: plain decimal. */
static int parse_since(const char *s, uint64_t *ns)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*ns = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
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

enum {
	OPT_ONCE = 256, OPT_JSON, OPT_PROMETHEUS, OPT_GC, OPT_SUMMARY, OPT_SINCE,
	OPT_REMOVE, OPT_COMMAND_STATUS, OPT_COMMAND_SIGNAL,
};

static const char *mode_option(int mode)
{
	switch (mode) {
	case MODE_JSON: return "--json";
	case MODE_PROMETHEUS: return "--prometheus";
	case MODE_GC: return "--gc";
	case MODE_SUMMARY: return "--summary";
	default: return "--once";
	}
}

/* Sets the mode; --once goes with --json and --prometheus, which print
 * once anyway; any other pair is a mistake.  -1 to go on, else the exit
 * status. */
static int set_mode(struct stat_options *opt, int mode)
{
	bool once_with_printer = (opt->mode == MODE_ONCE || mode == MODE_ONCE) &&
				 (opt->mode == MODE_JSON || opt->mode == MODE_PROMETHEUS ||
				  mode == MODE_JSON || mode == MODE_PROMETHEUS);

	if (opt->mode == MODE_LIVE || (int)opt->mode == mode || once_with_printer) {
		if (mode != MODE_ONCE || opt->mode == MODE_LIVE)
			opt->mode = mode;
		return -1;
	}
	return usage_error("%s and %s do not go together", mode_option(opt->mode),
			   mode_option(mode));
}

/* What getopt_long() found wrong at argv[optind - 1]. */
static int bad_option(char **argv)
{
	/* getopt_long() leaves optopt 0 for an unknown long option, sets it
	 * to a known option's value for one given a value it does not take
	 * ("--once=1"), and to the letter of an unknown short option. */
	if (optopt == 0)
		return usage_error("unknown option '%s'", argv[optind - 1]);
	if (strchr("hV", optopt) != NULL || optopt >= OPT_ONCE)
		return usage_error("option '%s' takes no value", argv[optind - 1]);
	return usage_error("unknown option '-%c'", optopt);
}

/* Fills *opt from argv.  -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct stat_options *opt)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
		{ "gc", no_argument, NULL, OPT_GC },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "remove", no_argument, NULL, OPT_REMOVE },
		{ "command-status", required_argument, NULL, OPT_COMMAND_STATUS },
		{ "command-signal", required_argument, NULL, OPT_COMMAND_SIGNAL },
		{ "pid", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("SOCKPOOL_STATS_DIR");
	bool since_given = false;
	int c, rc;

	*opt = (struct stat_options){
		.mode = MODE_LIVE,
		.dir = env != NULL && env[0] != '\0' ? env : "/dev/shm",
		.interval = { .tv_sec = 1 },
		.command_status = -1,
	};
	opterr = 0;	/* our own messages, each with the hint to --help */
	while ((c = getopt_long(argc, argv, ":p:d:i:hV", longopts, NULL)) != -1) {
		rc = -1;
		switch (c) {
		case OPT_ONCE: rc = set_mode(opt, MODE_ONCE); break;
		case OPT_JSON: rc = set_mode(opt, MODE_JSON); break;
		case OPT_PROMETHEUS: rc = set_mode(opt, MODE_PROMETHEUS); break;
		case OPT_GC: rc = set_mode(opt, MODE_GC); break;
		case OPT_SUMMARY: rc = set_mode(opt, MODE_SUMMARY); break;
		case OPT_REMOVE: opt->remove = true; break;
		case OPT_SINCE:
			if (parse_since(optarg, &opt->since_ns) != 0)
				return usage_error("bad --since '%s': nanoseconds since the epoch are wanted",
						   optarg);
			since_given = true;
			break;
		case OPT_COMMAND_STATUS:
			if (parse_small(optarg, 0, 255, &opt->command_status) != 0)
				return usage_error("bad --command-status '%s': 0 to 255 is wanted",
						   optarg);
			break;
		case OPT_COMMAND_SIGNAL:
			if (parse_small(optarg, 1, SIGRTMAX, &opt->command_signal) != 0)
				return usage_error("bad --command-signal '%s': a signal number is wanted",
						   optarg);
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
			return bad_option(argv);
		}
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if ((since_given || opt->remove) && opt->mode != MODE_SUMMARY)
		return usage_error("%s goes with --summary only", since_given ? "--since" : "--remove");
	if ((opt->command_status >= 0 || opt->command_signal != 0) && opt->mode != MODE_SUMMARY)
		return usage_error("--command-status and --command-signal go with --summary only");
	if (opt->command_status >= 0 && opt->command_signal != 0)
		return usage_error("a command that was killed has no exit status: "
				   "--command-status or --command-signal, not both");
	if (opt->mode == MODE_SUMMARY && opt->pid != 0)
		return usage_error("--summary counts every process in the directory: no -p");
	return -1;
}

static int show_once(const struct stat_options *opt)
{
	struct view v;
	enum collect_result got = view_collect(opt, true, &v);
	int rc = 1;

	if (got == NO_SEGMENT)
		view_say_no_segment(opt);
	if (got == COLLECTED) {
		/* collect_one() has said what was wrong with its file. */
		if (opt->pid == 0)
			view_print_errors(&v);
		if (opt->mode == MODE_JSON)
			json_print_view(stdout, &v);
		else if (opt->mode == MODE_PROMETHEUS)
			prom_print_view(stdout, &v);
		else
			text_print_view(stdout, &v, NULL, opt);
		rc = output_finish();
	}
	view_free(&v);
	return rc;
}

int main(int argc, char **argv)
{
	struct stat_options opt;
	int rc = parse_options(argc, argv, &opt);

	if (rc >= 0)
		return rc;
	switch (opt.mode) {
	case MODE_LIVE: return run_live(&opt);
	case MODE_GC: return run_gc(&opt);
	case MODE_SUMMARY: return run_summary(&opt);
	default: return show_once(&opt);
	}
}
