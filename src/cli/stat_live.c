/*
 * stat_live.c: the live view, redrawn every interval until q, Ctrl-C,
 * SIGTERM or SIGHUP.
 *
 * On a terminal it draws like top: the alternate screen, the cursor
 * hidden, and each frame written in one go over the last one (cursor
 * home, every line ended by "clear to end of line", then "clear to end of
 * screen") so nothing flickers.  Lines are cut to the window's width and
 * the frame to its height, since a wrapped or scrolled line would shift
 * the next frame.  The keyboard is read in non-canonical mode without
 * echo; Ctrl-C still sends SIGINT.  Whatever ends the program (q, a
 * signal, an error), the terminal is given back as it was; Ctrl-Z gives
 * it back before stopping and takes it again on resume.
 *
 * When stdout is not a terminal, each frame is a plain block of lines
 * after a blank line, for a log or a pipe.
 *
 * Signals stay blocked except inside ppoll(), which unblocks them
 * atomically: one that arrives while a frame is drawn is taken at the
 * next wait instead of being slept through.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "stat_escape.h"
#include "stat_modes.h"
#include "stat_output.h"

struct terminal {
	bool draw;		/* stdout is a terminal: draw in place */
	bool keys;		/* stdin is a terminal, in non-canonical mode */
	bool entered;		/* the state below is in force */
	struct termios saved;
	unsigned rows, cols;
};

static struct terminal term;
static volatile sig_atomic_t stop_requested, suspend_requested, resize_requested;

static void on_signal(int sig)
{
	if (sig == SIGTSTP)
		suspend_requested = 1;
	else if (sig == SIGWINCH)
		resize_requested = 1;
	else
		stop_requested = 1;
}

static void measure_window(void)
{
	struct winsize ws;

	term.rows = 24;
	term.cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		term.rows = ws.ws_row;
		term.cols = ws.ws_col;
	}
}

/* Takes the terminal: alternate screen, no cursor, keys one at a time. */
static void terminal_enter(void)
{
	if (!term.draw || term.entered)
		return;
	term.keys = false;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &term.saved) == 0) {
		struct termios raw = term.saved;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		term.keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);
	measure_window();
	term.entered = true;
}

/* Gives the terminal back; safe to call at any time, more than once. */
static void terminal_leave(void)
{
	if (!term.entered)
		return;
	term.entered = false;
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (term.keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &term.saved);
}

/* Ctrl-Z: stop as the default action would, the terminal given back. */
static void suspend_self(void)
{
	suspend_requested = 0;
	terminal_leave();
	kill(getpid(), SIGSTOP);	/* returns after SIGCONT */
	terminal_enter();
}

/* The signals the loop takes, blocked; *wait_mask gets the mask for
 * ppoll(), with them open. */
static void catch_signals(sigset_t *wait_mask)
{
	static const int taken[] = { SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGWINCH };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		/* Ctrl-Z keeps its default where we draw nothing to undo. */
		if (taken[i] == SIGTSTP && !term.draw)
			continue;
		sigaddset(&block, taken[i]);
	}
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		if (!sigismember(&block, taken[i]))
			continue;
		sigdelset(wait_mask, taken[i]);
		sigaction(taken[i], &sa, NULL);
	}
}

/* The text of one frame, errors included (on a terminal, stderr would
 * scribble over the frame).  malloc'd; NULL when out of memory. */
static char *render_frame(const struct view *v, const struct view *prev,
			  const struct stat_options *opt, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		return NULL;
	text_print_heading(f, v, opt, term.keys);
	for (size_t i = 0; i < v->nerrors; i++) {
		fputs("error: ", f);
		escape_terminal(f, v->errors[i].file);
		fputs(": ", f);
		escape_terminal(f, v->errors[i].error);
		fputc('\n', f);
	}
	text_print_view(f, v, prev, opt);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Writes text over the previous frame: each line cut to the width and
 * cleared to its end, at most rows - 1 lines (a newline on the last row
 * would scroll), then the rest of the screen cleared. */
static void draw_in_place(const char *text)
{
	unsigned max_lines = term.rows > 1 ? term.rows - 1 : 1, lines = 0, total = 0;
	size_t width = term.cols > 1 ? term.cols - 1 : 1;

	for (const char *p = text; *p != '\0'; p++)
		total += *p == '\n';
	fputs("\033[H", stdout);
	for (const char *p = text; *p != '\0' && lines < max_lines; lines++) {
		const char *end = strchr(p, '\n');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (lines + 1 == max_lines && total > max_lines) {
			printf("(%u more lines: a taller window, or -p PID)\033[K\n",
			       total - lines);
			break;
		}
		fwrite(p, 1, n < width ? n : width, stdout);
		fputs("\033[K\n", stdout);
		p += n + (end != NULL);
	}
	fputs("\033[J", stdout);
}

static int draw_frame(const struct view *v, const struct view *prev,
		      const struct stat_options *opt, unsigned frame)
{
	size_t len;
	char *text;

	if (!term.draw) {
		if (frame > 0)
			fputc('\n', stdout);
		view_print_errors(v);
		text_print_heading(stdout, v, opt, false);
		text_print_view(stdout, v, prev, opt);
		return output_finish();
	}
	text = render_frame(v, prev, opt, &len);
	if (text == NULL) {
		fprintf(stderr, ME ": out of memory\n");
		return 1;
	}
	draw_in_place(text);
	free(text);
	return output_finish();
}

/* Reads the keys typed; true when one of them asks to quit. */
static bool quit_key_typed(void)
{
	char keys[64];
	ssize_t n = read(STDIN_FILENO, keys, sizeof(keys));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			term.keys = false;	/* the terminal is gone */
		return false;
	}
	return memchr(keys, 'q', (size_t)n) != NULL || memchr(keys, 'Q', (size_t)n) != NULL;
}

/* Waits one interval, or less when asked to redraw or stop. */
static void wait_interval(const struct stat_options *opt, const sigset_t *wait_mask)
{
	uint64_t interval_ns = (uint64_t)opt->interval.tv_sec * 1000000000u +
			       (uint64_t)opt->interval.tv_nsec;
	uint64_t deadline = view_now_ns(CLOCK_MONOTONIC) + interval_ns;

	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		uint64_t now = view_now_ns(CLOCK_MONOTONIC);
		struct timespec left;
		int rc;

		if (now >= deadline)
			return;
		left.tv_sec = (time_t)((deadline - now) / 1000000000u);
		left.tv_nsec = (long)((deadline - now) % 1000000000u);
		rc = ppoll(&pfd, term.keys ? 1 : 0, &left, wait_mask);
		if (stop_requested)
			return;
		if (suspend_requested) {
			suspend_self();
			return;
		}
		if (resize_requested) {
			resize_requested = 0;
			measure_window();
			return;
		}
		if (rc > 0 && quit_key_typed()) {
			stop_requested = 1;
			return;
		}
	}
}

int run_live(const struct stat_options *opt)
{
	struct view prev = { 0 };
	bool have_prev = false;
	sigset_t wait_mask;
	bool exited = false, missing = false;
	int rc = 0;

	term.draw = isatty(STDOUT_FILENO);
	catch_signals(&wait_mask);
	atexit(terminal_leave);
	terminal_enter();
	for (unsigned frame = 0; !stop_requested; frame++) {
		struct view v;
		enum collect_result got = view_collect(opt, true, &v);

		if (got == COLLECT_FAILED) {
			rc = 1;
		} else if (got == NO_SEGMENT && frame == 0) {
			missing = true;
			rc = 1;
		} else if (got == NO_SEGMENT) {
			/* The process asked for with -p exited while we watched:
			 * the end of the show, not an error. */
			exited = true;
		} else {
			rc = draw_frame(&v, have_prev ? &prev : NULL, opt, frame);
		}
		if (got != COLLECTED || rc != 0) {
			view_free(&v);
			break;
		}
		view_free(&prev);
		prev = v;
		have_prev = true;
		wait_interval(opt, &wait_mask);
	}
	view_free(&prev);
	terminal_leave();	/* before any last word, or it would vanish */
	if (missing)
		view_say_no_segment(opt);
	if (exited)
		printf("pid %d has exited\n", (int)opt->pid);
	return rc == 0 ? output_finish() : rc;
}
