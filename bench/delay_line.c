/*
 * delay_line.c: a slow network between two network namespaces, for
 * kernels without netem.
 *
 *   delay_line -a NS_A -b NS_B -d DELAY_US [-j JITTER_US] [-r KBIT_S]
 *              [-q PACKETS] [-i IFNAME] [-T SECONDS] -R READY_FILE
 *
 * Opens a TUN device named IFNAME (default dl0) inside each of the two
 * namespaces (/var/run/netns/NS_A and NS_B, as `ip netns add` makes them),
 * writes READY_FILE once both exist, and from then on forwards every IP
 * packet one device hands it to the other after DELAY_US microseconds
 * (one way: a round trip costs twice that).  The caller gives the devices
 * their addresses and brings them up; the devices vanish when this process
 * ends, and with them the path.
 *
 * -j adds a uniform jitter of +-JITTER_US to each packet's delay, but a
 * packet never overtakes the one before it in its direction (TCP takes
 * reordering for loss, which is not what jitter should show).  -r caps each
 * direction at KBIT_S kilobits per second (a packet waits for the link to
 * finish the ones before it).  -q bounds each direction's queue (default
 * 1024 packets): a packet arriving at a full queue is dropped, as a router
 * would drop it.  -T ends the process after SECONDS (default 1800), so a
 * forgotten delay line stops by itself.
 *
 * Honesty: a delay line that cannot keep up delays packets more than it was
 * asked to.  So it reports how late each packet left (against its due
 * time) and the CPU it used, on stdout, one line per report:
 *
 *   delay_line: report=interval|total a_to_b=N b_to_a=N dropped=N
 *     queue_max=N late_p50_us=N late_p99_us=N late_max_us=N
 *     cpu_s=S wall_s=S cpu_percent=P
 *
 * SIGUSR1 prints an "interval" report (everything since the previous one)
 * and starts a new interval; SIGTERM, SIGINT or the -T limit print the
 * "total" report and end the process with status 0.  Timers are asked for
 * with 1 ns slack; whatever the scheduler adds shows up as lateness.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES	2048	/* one packet: the devices keep the 1500-byte MTU */
#define LATE_BUCKETS	20001	/* lateness histogram: 1 us buckets, the last is "more" */

/* One packet waiting for its time. */
struct slot {
	uint64_t due_ns;
	uint16_t len;
	unsigned char data[SLOT_BYTES];
};

/* One direction: a bounded FIFO of packets read from `from`, written to `to`. */
struct direction {
	int from, to;
	struct slot *ring;
	size_t head, count;
	uint64_t link_free_ns;	/* -r: when the link has sent what it holds */
	uint64_t last_due_ns;	/* no packet leaves before the one ahead of it */
};

/* What a report tells; one set for the interval, one for the whole run. */
struct tally {
	uint64_t forwarded[2], dropped;
	size_t queue_max;
	uint32_t late[LATE_BUCKETS];
	uint64_t late_count;
	uint64_t late_max_ns;
	uint64_t start_ns, cpu_start_ns;
};

static struct {
	const char *ns[2], *ifname, *ready_file;
	uint64_t delay_ns, jitter_ns, rate_bps;
	size_t queue_cap;
	uint64_t lifetime_ns;
} cfg;

static struct direction dir[2];
static struct tally interval, total;
static volatile sig_atomic_t want_report, want_exit;
static uint64_t rng_state;

static void die(const char *what)
{
	fprintf(stderr, "delay_line: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* ---- the two devices ------------------------------------------------ */

/* A TUN device is created in the network namespace of the process that
 * opens /dev/net/tun: step into NS, open and name it, step back. */
static int tun_open_in(const char *ns, int home)
{
	char path[PATH_MAX];
	struct ifreq ifr;
	int nsfd, fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die(path);
	if (setns(nsfd, CLONE_NEWNET) != 0)
		die("setns");
	close(nsfd);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;	/* bare IP packets */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg.ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0)
		die("TUNSETIFF");
	if (setns(home, CLONE_NEWNET) != 0)
		die("setns back");
	return fd;
}

static void ready_announce(void)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", cfg.ready_file);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0)
		die(tmp);
	if (rename(tmp, cfg.ready_file) != 0)	/* whole or absent for the reader */
		die(cfg.ready_file);
}

/* ---- reports -------------------------------------------------------- */

static void tally_start(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->start_ns = mono_ns();
	t->cpu_start_ns = cpu_ns();
}

static void tally_late(struct tally *t, uint64_t late_ns)
{
	uint64_t us = late_ns / 1000;

	t->late[us < LATE_BUCKETS - 1 ? us : LATE_BUCKETS - 1]++;
	t->late_count++;
	if (late_ns > t->late_max_ns)
		t->late_max_ns = late_ns;
}

/* The lateness (us) below which a share `q` of packets left. */
static unsigned long tally_late_quantile(const struct tally *t, double q)
{
	uint64_t need = (uint64_t)(q * (double)t->late_count + 0.999999), seen = 0;

	for (unsigned long us = 0; us < LATE_BUCKETS; us++) {
		seen += t->late[us];
		if (seen >= need && seen > 0)
			return us;
	}
	return 0;
}

static void tally_print(const struct tally *t, const char *kind)
{
	double wall = (double)(mono_ns() - t->start_ns) / 1e9;
	double cpu = (double)(cpu_ns() - t->cpu_start_ns) / 1e9;

	printf("delay_line: report=%s a_to_b=%llu b_to_a=%llu dropped=%llu queue_max=%zu "
	       "late_p50_us=%lu late_p99_us=%lu late_max_us=%llu cpu_s=%.3f wall_s=%.3f "
	       "cpu_percent=%.1f\n", kind,
	       (unsigned long long)t->forwarded[0], (unsigned long long)t->forwarded[1],
	       (unsigned long long)t->dropped, t->queue_max,
	       tally_late_quantile(t, 0.5), tally_late_quantile(t, 0.99),
	       (unsigned long long)(t->late_max_ns / 1000), cpu, wall,
	       wall > 0 ? 100.0 * cpu / wall : 0.0);
	fflush(stdout);
}

static void on_report(int sig)
{
	(void)sig;
	want_report = 1;
}

static void on_exit_signal(int sig)
{
	(void)sig;
	want_exit = 1;
}

/* ---- forwarding ------------------------------------------------------ */

/* When a packet of `len` bytes arriving now may leave. */
static uint64_t due_time(struct direction *d, uint64_t now, size_t len)
{
	uint64_t sent = now, delay = cfg.delay_ns, due;

	if (cfg.rate_bps > 0) {
		uint64_t start = d->link_free_ns > now ? d->link_free_ns : now;

		d->link_free_ns = start + (uint64_t)len * 8u * 1000000000u / cfg.rate_bps;
		sent = d->link_free_ns;
	}
	if (cfg.jitter_ns > 0) {
		uint64_t span = 2 * cfg.jitter_ns + 1, offset = rng_next() % span;

		/* delay - jitter + offset, never below zero */
		delay = delay + offset > cfg.jitter_ns ? delay + offset - cfg.jitter_ns : 0;
	}
	due = sent + delay;
	if (due < d->last_due_ns)
		due = d->last_due_ns;
	d->last_due_ns = due;
	return due;
}

/* Reads every packet waiting on d->from into the queue (or drops it). */
static void direction_take(struct direction *d)
{
	unsigned char spill[SLOT_BYTES];

	for (;;) {
		bool full = d->count == cfg.queue_cap;
		struct slot *s = &d->ring[(d->head + d->count) % cfg.queue_cap];
		unsigned char *buf = full ? spill : s->data;
		ssize_t n = read(d->from, buf, SLOT_BYTES);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			die("read from the TUN device");
		}
		if (n == 0)
			return;
		if (full || n == SLOT_BYTES) {	/* no room, or larger than the MTU allows */
			interval.dropped++;
			total.dropped++;
			continue;
		}
		s->len = (uint16_t)n;
		s->due_ns = due_time(d, mono_ns(), (size_t)n);
		d->count++;
		if (d->count > interval.queue_max)
			interval.queue_max = d->count;
		if (d->count > total.queue_max)
			total.queue_max = d->count;
	}
}

/* Writes every packet whose time has come; returns the next due time
 * (UINT64_MAX when the queue is empty). */
static uint64_t direction_send(struct direction *d, int index)
{
	while (d->count > 0) {
		struct slot *s = &d->ring[d->head];
		uint64_t now = mono_ns();

		if (s->due_ns > now)
			return s->due_ns;
		/* A write the device refuses is a lost packet, as on a wire. */
		if (write(d->to, s->data, s->len) == (ssize_t)s->len) {
			interval.forwarded[index]++;
			total.forwarded[index]++;
		} else {
			interval.dropped++;
			total.dropped++;
		}
		tally_late(&interval, now - s->due_ns);
		tally_late(&total, now - s->due_ns);
		d->head = (d->head + 1) % cfg.queue_cap;
		d->count--;
	}
	return UINT64_MAX;
}

static void forward_loop(uint64_t deadline)
{
	struct pollfd pfd[2] = {
		{ .fd = dir[0].from, .events = POLLIN },
		{ .fd = dir[1].from, .events = POLLIN },
	};
	sigset_t during;

	sigemptyset(&during);	/* signals arrive only while waiting */
	for (;;) {
		uint64_t next = deadline, now, wait;
		struct timespec ts;

		for (int i = 0; i < 2; i++) {
			uint64_t due = direction_send(&dir[i], i);

			if (due < next)
				next = due;
		}
		if (want_report) {
			want_report = 0;
			tally_print(&interval, "interval");
			tally_start(&interval);
		}
		now = mono_ns();
		if (want_exit || now >= deadline)
			return;
		wait = next > now ? next - now : 0;
		ts.tv_sec = (time_t)(wait / 1000000000u);
		ts.tv_nsec = (long)(wait % 1000000000u);
		if (ppoll(pfd, 2, &ts, &during) < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll");
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
				errno = EIO;
				die("TUN device");
			}
			if (pfd[i].revents & POLLIN)
				direction_take(&dir[i]);
		}
	}
}

/* ---- command line ---------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: delay_line -a NS_A -b NS_B -d DELAY_US [-j JITTER_US] [-r KBIT_S]\n"
		"                  [-q PACKETS] [-i IFNAME] [-T SECONDS] -R READY_FILE\n");
	exit(2);
}

static uint64_t number(const char *s, const char *what, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
		fprintf(stderr, "delay_line: %s must be a number from 0 to %llu, not '%s'\n",
			what, (unsigned long long)max, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	bool have_delay = false;
	int ch;

	cfg.ifname = "dl0";
	cfg.queue_cap = 1024;
	cfg.lifetime_ns = 1800ull * 1000000000u;
	while ((ch = getopt(argc, argv, "a:b:d:j:r:q:i:T:R:")) != -1) {
		switch (ch) {
		case 'a': cfg.ns[0] = optarg; break;
		case 'b': cfg.ns[1] = optarg; break;
		case 'd': cfg.delay_ns = number(optarg, "-d", 10000000) * 1000; have_delay = true; break;
		case 'j': cfg.jitter_ns = number(optarg, "-j", 10000000) * 1000; break;
		case 'r': cfg.rate_bps = number(optarg, "-r", 100000000) * 1000; break;
		case 'q': cfg.queue_cap = (size_t)number(optarg, "-q", 65536); break;
		case 'i': cfg.ifname = optarg; break;
		case 'T': cfg.lifetime_ns = number(optarg, "-T", 86400) * 1000000000u; break;
		case 'R': cfg.ready_file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !cfg.ns[0] || !cfg.ns[1] || !cfg.ready_file || !have_delay ||
	    cfg.queue_cap == 0 || strlen(cfg.ifname) >= IFNAMSIZ)
		usage();
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t blocked;
	uint64_t deadline;
	int home;

	parse_args(argc, argv);
	/* The default 50 us timer slack would be a quarter of a 0.2 ms round trip. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	rng_state = mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;

	/* Signals stay blocked except inside ppoll: no read or write is cut short. */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_report;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_exit_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		die("/proc/self/ns/net");
	for (int i = 0; i < 2; i++) {
		dir[i].ring = calloc(cfg.queue_cap, sizeof(struct slot));
		if (dir[i].ring == NULL)
			die("queue");
	}
	dir[0].from = dir[1].to = tun_open_in(cfg.ns[0], home);
	dir[1].from = dir[0].to = tun_open_in(cfg.ns[1], home);
	close(home);

	tally_start(&interval);
	tally_start(&total);
	ready_announce();
	deadline = mono_ns() + cfg.lifetime_ns;
	forward_loop(deadline);
	if (!want_exit)
		fprintf(stderr, "delay_line: %llu s are up: stopping\n",
			(unsigned long long)(cfg.lifetime_ns / 1000000000u));
	tally_print(&total, "total");
	return 0;
}
