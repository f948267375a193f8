/*
 * sockpool_supervise.c: sockpool-supervise, what `sockpool --summary`
 * becomes.  The launcher (src/cli/sockpool.in) parses the options, finds
 * the library and checks the command, then execs this program, which
 *
 *   1. makes a private statistics directory (or, with --stats-dir, notes
 *      the time, to count only the processes started from now on),
 *   2. runs the command as its child, with LD_PRELOAD and the statistics
 *      kept at exit in that directory, passing INT, QUIT, TERM and HUP on,
 *   3. waits for it, has sockpool-stat print the summary line on stderr,
 *      removes what it made, and
 *   4. ends as the command ended: the same exit status, or death by the
 *      same signal.
 *
 * It is C, not shell, because only waitpid() tells an exit status of
 * 128+N from a death by signal N, because a shell cannot die of a signal
 * that was ignored when it started, and because a signal's siginfo says
 * whether a terminal sent it (to the whole foreground process group,
 * the command included) where the shell had to guess from /proc.  It is
 * not the whole launcher: the option parsing and the checks stay in the
 * script, where the plain path (no --summary) still execs the command
 * with nothing of sockpool left running.
 *
 * With --share BROKER (sockpool --share), it also runs BROKER
 * (sockpool-broker, src/broker/) for the command's whole life on a socket
 * in a private 0700 directory, and gives the command SOCKPOOL_BROKER: every
 * process under it shares one pool (share.c).  Without --reader there is
 * no summary.
 *
 * The supervisor itself never runs with the shim: LD_PRELOAD is set in
 * the command's environment only.  Not for people to run by hand: the
 * launcher is its one caller, and installs it in PREFIX/lib/sockpool.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "share.h"

#define ME "sockpool"
#define EXIT_USAGE 2

/* The signals passed on to the command. */
static const int forwarded_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
#define NFORWARDED (sizeof(forwarded_signals) / sizeof(forwarded_signals[0]))

/* The command while it runs; 0 before and once reaped, so that a signal
 * never goes to a pid the kernel may have given to another process. */
static volatile sig_atomic_t command_pid;

struct supervise_options {
	const char *reader;	/* sockpool-stat */
	const char *preload;	/* LD_PRELOAD for the command */
	const char *stats_dir;	/* shared directory, or NULL: a private one */
	const char *broker;	/* sockpool-broker for --share, or NULL */
	char **command;
};

/*
 * Passes a signal on to the command, except one a terminal sent (Ctrl-C,
 * Ctrl-\): the terminal sends those to its foreground process group,
 * which the command shares with us unless it left it, so it has its own
 * already and a second would be one too many (a shell asks "really
 * quit?" on the first Ctrl-C).  Async-signal-safe: kill, getpgid, errno.
 */
static void forward_signal(int sig, siginfo_t *info, void *context)
{
	pid_t pid = (pid_t)command_pid;
	int saved_errno = errno;

	(void)context;
	if (pid > 0) {
		bool from_terminal = info->si_code == SI_KERNEL &&
				     (sig == SIGINT || sig == SIGQUIT);

		if (!from_terminal || getpgid(pid) != getpgrp())
			kill(pid, sig);
	}
	errno = saved_errno;
}

/* Catches the forwarded signals, blocked until the command's pid is
 * known; keeps what was there before for the command to get back.  A
 * signal ignored when we started stays ignored, as a shell leaves it
 * (a background job's INT and QUIT): the command ignores it too. */
static void catch_signals(struct sigaction *saved, sigset_t *saved_mask)
{
	struct sigaction sa = { .sa_sigaction = forward_signal, .sa_flags = SA_SIGINFO };
	sigset_t block;

	sigemptyset(&block);
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaddset(&block, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &block, saved_mask);
	sa.sa_mask = block;
	for (size_t i = 0; i < NFORWARDED; i++) {
		sigaction(forwarded_signals[i], NULL, &saved[i]);
		if (saved[i].sa_handler != SIG_IGN)
			sigaction(forwarded_signals[i], &sa, NULL);
	}
}

static void restore_signals(const struct sigaction *saved, const sigset_t *saved_mask)
{
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaction(forwarded_signals[i], &saved[i], NULL);
	sigprocmask(SIG_SETMASK, saved_mask, NULL);
}

/* execvp() the command; on failure the status a shell would give, with
 * our name on the message. */
static void exec_command(char **command)
{
	int err;

	execvp(command[0], command);
	err = errno;
	fprintf(stderr, ME ": %s: %s\n", command[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

/* Without a summary after all: becomes the command, as the plain launcher
 * would have. */
static void exec_without_summary(const struct supervise_options *opt)
{
	if (setenv("LD_PRELOAD", opt->preload, 1) != 0) {
		fprintf(stderr, ME ": cannot set LD_PRELOAD: %s\n", strerror(errno));
		exit(127);
	}
	exec_command(opt->command);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A new private directory for the segments: /dev/shm, where they would
 * have been, else TMPDIR or /tmp.  0 or -1 (said on stderr). */
static int make_private_dir(char *dir, size_t len)
{
	const char *base = "/dev/shm";

	if (access(base, W_OK | X_OK) != 0) {
		base = getenv("TMPDIR");
		if (base == NULL || base[0] == '\0')
			base = "/tmp";
	}
	if (snprintf(dir, len, "%s/sockpool-summary.XXXXXX", base) >= (int)len ||
	    mkdtemp(dir) == NULL) {
		fprintf(stderr, ME ": cannot make a statistics directory in %s: no --summary\n",
			base);
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, ME ": cannot remove %s: %s\n", path, strerror(errno));
	return 0;	/* go on: remove what can be removed */
}

/* The private directory and the segments in it. */
static void remove_private_dir(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs the command as our child in the statistics directory dir; its
 * wait status, or -1 when no child could be made (said on stderr). */
static int run_command(const struct supervise_options *opt, const char *dir)
{
	struct sigaction saved[NFORWARDED];
	sigset_t saved_mask;
	int status;
	pid_t pid, got;

	catch_signals(saved, &saved_mask);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, ME ": cannot start %s: %s\n", opt->command[0], strerror(errno));
		restore_signals(saved, &saved_mask);
		return -1;
	}
	if (pid == 0) {
		restore_signals(saved, &saved_mask);
		if ((dir != NULL && (setenv("SOCKPOOL_STATS_DIR", dir, 1) != 0 ||
				     setenv("SOCKPOOL_STATS_KEEP", "1", 1) != 0)) ||
		    setenv("LD_PRELOAD", opt->preload, 1) != 0) {
			fprintf(stderr, ME ": cannot set the environment: %s\n", strerror(errno));
			_exit(127);
		}
		exec_command(opt->command);
	}
	command_pid = pid;
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	command_pid = 0;
	if (got < 0) {
		/* Cannot happen for our own child; say so rather than guess. */
		fprintf(stderr, ME ": cannot wait for %s: %s\n", opt->command[0], strerror(errno));
		status = 127 << 8;
	}
	return status;
}

/* sockpool-stat --summary on stderr, told how the command ended. */
static void print_summary(const struct supervise_options *opt, const char *dir,
			  uint64_t since_ns, int command_status)
{
	char since[32], code[16];
	const char *argv[12];
	int n = 0, status;
	pid_t pid;

	argv[n++] = opt->reader;
	argv[n++] = "--summary";
	argv[n++] = "--dir";
	argv[n++] = dir;
	if (opt->stats_dir != NULL) {
		snprintf(since, sizeof(since), "%llu", (unsigned long long)since_ns);
		argv[n++] = "--since";
		argv[n++] = since;
		argv[n++] = "--remove";
	}
	if (WIFSIGNALED(command_status)) {
		snprintf(code, sizeof(code), "%d", WTERMSIG(command_status));
		argv[n++] = "--command-signal";
	} else {
		snprintf(code, sizeof(code), "%d", WEXITSTATUS(command_status));
		argv[n++] = "--command-status";
	}
	argv[n++] = code;
	argv[n] = NULL;

	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, ME ": cannot run %s: %s\n", opt->reader, strerror(errno));
		return;
	}
	if (pid == 0) {
		if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execv(opt->reader, (char *const *)argv);
		fprintf(stderr, ME ": cannot run %s: %s\n", opt->reader, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Ends the way the command ended.  A signal is raised with its default
 * action restored and unblocked, whatever it was when we started (a
 * shell could not undo an inherited SIG_IGN), and without a core dump
 * of our own: the command's core, if any, is the one that matters. */
static int end_like(int command_status)
{
	if (WIFSIGNALED(command_status)) {
		int sig = WTERMSIG(command_status);
		struct rlimit no_core = { 0, 0 };
		sigset_t one;

		setrlimit(RLIMIT_CORE, &no_core);
		signal(sig, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		fflush(NULL);
		raise(sig);
		/* Still here: a signal whose default is not to terminate
		 * cannot have killed the command; say it as a shell would. */
		return 128 + sig;
	}
	return WEXITSTATUS(command_status);
}

static int usage_error(const char *what)
{
	fprintf(stderr, ME "-supervise: %s\n"
		"Usage: sockpool-supervise [--reader SOCKPOOL_STAT] [--share SOCKPOOL_BROKER]"
		" --preload LD_PRELOAD [--stats-dir DIR] -- command [args...]\n"
		"(run by 'sockpool --summary'; see 'sockpool --help')\n", what);
	return EXIT_USAGE;
}

/* Fills *opt from argv.  -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct supervise_options *opt)
{
	int i;

	*opt = (struct supervise_options){ 0 };
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--reader") == 0)
			slot = &opt->reader;
		else if (strcmp(argv[i], "--preload") == 0)
			slot = &opt->preload;
		else if (strcmp(argv[i], "--stats-dir") == 0)
			slot = &opt->stats_dir;
		else if (strcmp(argv[i], "--share") == 0)
			slot = &opt->broker;
		else
			return usage_error("unknown option");
		if (++i >= argc || argv[i][0] == '\0')
			return usage_error("an option needs a value");
		*slot = argv[i];
	}
	if ((opt->reader == NULL && opt->broker == NULL) || opt->preload == NULL)
		return usage_error("--preload and --reader or --share are needed");
	if (i + 1 >= argc)
		return usage_error("no command given");
	opt->command = &argv[i + 1];
	return -1;
}

int main(int argc, char **argv)
{
	struct supervise_options opt;
	char private_dir[4096];
	const char *dir = NULL;
	uint64_t since_ns = 0;
	int rc = parse_options(argc, argv, &opt), status;
	struct share share = { .pid = -1 };

	if (rc >= 0)
		return rc;
	/* The broker first, so that the command's first process finds it;
	 * without one, each process keeps its own pool (said by share.c). */
	if (opt.broker != NULL && share_start(&share, opt.broker) == 0 &&
	    setenv("SOCKPOOL_BROKER", share.socket_path, 1) != 0)
		share_stop(&share);
	if (opt.reader == NULL) {
		status = run_command(&opt, NULL);
		share_stop(&share);
		if (status < 0)
			return 127;
		return end_like(status);
	}
	if (opt.stats_dir != NULL) {
		dir = opt.stats_dir;
		since_ns = realtime_ns();
	} else {
		if (make_private_dir(private_dir, sizeof(private_dir)) != 0)
			exec_without_summary(&opt);
		dir = private_dir;
	}
	status = run_command(&opt, dir);
	share_stop(&share);
	if (status < 0) {
		if (opt.stats_dir == NULL)
			remove_private_dir(dir);
		fprintf(stderr, ME ": no --summary\n");
		exec_without_summary(&opt);
	}
	print_summary(&opt, dir, since_ns, status);
	if (opt.stats_dir == NULL)
		remove_private_dir(dir);
	return end_like(status);
}
