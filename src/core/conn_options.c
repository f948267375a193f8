/*
 * conn_options.c: the socket options a pooled socket carries from one
 * program socket to the next (see "Socket options" in conn.h): which
 * options are carried, which are harmless and which keep a socket out of
 * the pool, and setting only those that differ at checkout (a digest of
 * options and values kept beside each pooled socket).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/time.h>

#include "conn.h"
#include "sys.h"

/* Options a program sets on a client socket that live in the socket, not
 * in the connection; bit i of a notes mask stands for carried_options[i]. */
static const struct carried_option {
	int level, name;
	socklen_t len;
} carried_options[] = {
	{ SOL_SOCKET, SO_KEEPALIVE, sizeof(int) },
	{ SOL_SOCKET, SO_RCVTIMEO, sizeof(struct timeval) },
	{ SOL_SOCKET, SO_SNDTIMEO, sizeof(struct timeval) },
	{ SOL_SOCKET, SO_LINGER, sizeof(struct linger) },
	{ SOL_SOCKET, SO_PRIORITY, sizeof(int) },
	{ SOL_SOCKET, SO_OOBINLINE, sizeof(int) },
	{ SOL_SOCKET, SO_MARK, sizeof(int) },
	{ SOL_SOCKET, SO_SNDBUF, sizeof(int) },
	{ SOL_SOCKET, SO_RCVBUF, sizeof(int) },
	{ IPPROTO_TCP, TCP_NODELAY, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPIDLE, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPINTVL, sizeof(int) },
	{ IPPROTO_TCP, TCP_KEEPCNT, sizeof(int) },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, sizeof(int) },
	{ IPPROTO_IP, IP_TOS, sizeof(int) },
	{ IPPROTO_IPV6, IPV6_TCLASS, sizeof(int) },
};
#define NCARRIED (sizeof(carried_options) / sizeof(carried_options[0]))
_Static_assert(NCARRIED <= CONN_CARRIED_MAX && CONN_CARRIED_MAX < 30,
	       "one notes bit per option, below CONN_NOTE_FLAGS");

/* Options with no lasting effect on a client connection: TCP_QUICKACK is
 * momentary; address reuse only matters to bind(), which already makes a
 * socket unpoolable (IP_BIND_ADDRESS_NO_PORT too).  IPV6_V6ONLY decides
 * only which addresses the socket may connect to: cleared (what Java and
 * .NET do on every socket, to reach IPv4 servers at ::ffff:a.b.c.d), it
 * refuses no connect that a pooled socket to the same destination could
 * not have made.  Set, it makes a connect to a v4-mapped address fail,
 * which a pooled socket would not: that one stays refused. */
static bool option_is_harmless(int level, int name, const void *value, socklen_t len)
{
	int on;

	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && len == sizeof(on)) {
		memcpy(&on, value, sizeof(on));
		return on == 0;
	}
	return (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_REUSEPORT)) ||
	       (level == IPPROTO_IP && name == IP_BIND_ADDRESS_NO_PORT) ||
	       (level == IPPROTO_TCP && name == TCP_QUICKACK);
}

/* Whether o holds exactly these bytes. */
static bool same_value(const struct conn_option *o, const void *value, socklen_t len)
{
	return value != NULL && o->len == len && memcmp(o->value, value, len) == 0;
}

static int carried_option_index(int level, int name)
{
	for (size_t i = 0; i < NCARRIED; i++)
		if (carried_options[i].level == level && carried_options[i].name == name)
			return (int)i;
	return -1;
}

void conn_note_option_set(struct conn_ref ref, int level, int name,
			  const void *value, socklen_t len)
{
	int saved_errno = errno;
	int i = carried_option_index(level, name);

	if (i < 0 && option_is_harmless(level, name, value, len))
		return;
	if (!conn_ref_lock(ref))
		return;
	if (i < 0 || len > CONN_OPTION_VALUE_MAX) {
		ref.conn->broken = true;
		if (!ref.conn->refused_option.set)
			ref.conn->refused_option = (struct conn_refused_option){ true, level, name };
	} else {
		/* The value as given, to be set again as it was: some read back
		 * otherwise (buffer sizes come back doubled). */
		ref.conn->options_set |= 1u << i;
		ref.conn->options[i].len = (uint8_t)len;
		memcpy(ref.conn->options[i].value, value, len);
	}
	pthread_mutex_unlock(&ref.conn->lock);
	errno = saved_errno;
}

void conn_apply_options(const struct conn *c, int fd)
{
	int saved_errno = errno;

	for (size_t i = 0; i < NCARRIED; i++)
		if (c->options_set & (1u << i))
			(void)sys.setsockopt(fd, carried_options[i].level, carried_options[i].name,
					     c->options[i].value, c->options[i].len);
	errno = saved_errno;
}

uint64_t conn_timeout_ms(const struct conn *c, int name)
{
	int i = carried_option_index(SOL_SOCKET, name);
	struct timeval tv;

	if (i < 0 || !(c->options_set & (1u << i)) || c->options[i].len < sizeof(tv))
		return 0;
	memcpy(&tv, c->options[i].value, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0)
		return 0;
	return (uint64_t)tv.tv_sec * 1000u + (uint64_t)(tv.tv_usec + 999) / 1000u;
}

uint32_t conn_socket_notes(const struct conn *c, int fd)
{
	int saved_errno = errno;
	int nonblock = conn_fd_nonblocking(c, fd);

	errno = saved_errno;
	return c->options_set | (nonblock > 0 ? CONN_NOTE_NONBLOCK : 0) |
	       (c->conn_bound_auth || c->http.conn_bound_auth ? CONN_NOTE_CONN_AUTH : 0);
}

/* The value option i had on a new socket of each family, as last read
 * (read_default_option): a pooled socket whose record holds just that
 * value needs no reset for a program that leaves the option alone.  Kept
 * under a lock: it is read only when a speculative socket carries an
 * option its program did not set. */
static struct {
	pthread_mutex_t lock;
	bool known[2][NCARRIED];
	struct conn_option value[2][NCARRIED];
} defaults = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int family_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static void remember_default(int family, size_t i, const struct conn_option *v)
{
	int f = family_index(family);

	if (f < 0)
		return;
	pthread_mutex_lock(&defaults.lock);
	defaults.value[f][i] = *v;
	defaults.known[f][i] = true;
	pthread_mutex_unlock(&defaults.lock);
}

int conn_speculative_options_reset(struct conn *c, int fd)
{
	uint32_t extra = c->spec.notes & ~CONN_NOTE_FLAGS & ~c->options_set;
	struct conn_option value[NCARRIED];
	int f = family_index(c->dest.family);
	bool known = true;

	if (extra == 0)
		return 1;
	if (f < 0)
		return 0;
	pthread_mutex_lock(&defaults.lock);
	for (uint32_t set = extra; set != 0 && known; set &= set - 1) {
		unsigned i = (unsigned)__builtin_ctz(set);

		known = defaults.known[f][i];
		value[i] = defaults.value[f][i];
	}
	pthread_mutex_unlock(&defaults.lock);
	if (!known)
		return 0;
	/* As a checkout's reset would have left them, and c's socket carries
	 * them from now on. */
	for (uint32_t set = extra; set != 0; set &= set - 1) {
		unsigned i = (unsigned)__builtin_ctz(set);
		const struct conn_option *now = &c->spec.options[i];

		if (!same_value(now, value[i].value, value[i].len) &&
		    sys.setsockopt(fd, carried_options[i].level, carried_options[i].name,
				   value[i].value, value[i].len) != 0)
			return -1;
		c->options[i] = value[i];
	}
	c->options_set |= extra;
	return 1;
}

bool conn_option_already_set(const struct conn *c, int level, int name, const void *value,
			     socklen_t len)
{
	int i = carried_option_index(level, name);

	return i >= 0 && (c->options_set & (1u << i)) && same_value(&c->options[i], value, len);
}

/* Reads option i of the program's new socket into c: the value to reset
 * it to on a pooled socket that had it set.  A buffer size reads back
 * doubled, so half is set.  (Setting it locks the size against autotuning,
 * which the new socket would have had: a rare case, a program that sets
 * buffer sizes on some sockets only, kept as close as Linux allows.) */
static bool read_default_option(struct conn *c, size_t i, int from_fd)
{
	const struct carried_option *o = &carried_options[i];
	struct conn_option *v = &c->options[i];
	socklen_t len = o->len;

	if (sys.getsockopt(from_fd, o->level, o->name, v->value, &len) != 0 ||
	    len > CONN_OPTION_VALUE_MAX)
		return false;
	v->len = (uint8_t)len;
	if (o->level == SOL_SOCKET && (o->name == SO_SNDBUF || o->name == SO_RCVBUF)) {
		int size;

		memcpy(&size, v->value, sizeof(size));
		size /= 2;
		memcpy(v->value, &size, sizeof(size));
	}
	remember_default(c->dest.family, i, v);
	return true;
}

/* One step of the digest: FNV-1a's multiply over a word, then a shift so
 * that high bits reach the low ones before the next word. */
static uint64_t digest_step(uint64_t h, uint64_t word)
{
	h = (h ^ word) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static uint64_t values_digest(uint32_t options_set, const struct conn_option *options)
{
	uint64_t h = digest_step(0xcbf29ce484222325ULL, options_set);

	/* A word at a time: this runs at every check-out and check-in. */
	for (uint32_t set = options_set; set != 0; set &= set - 1) {
		unsigned i = (unsigned)__builtin_ctz(set);
		uint64_t words[CONN_OPTION_VALUE_MAX / 8] = { 0 };

		memcpy(words, options[i].value, options[i].len);
		h = digest_step(h, (uint64_t)i << 8 | options[i].len);
		for (size_t w = 0; w < CONN_OPTION_VALUE_MAX / 8; w++)
			h = digest_step(h, words[w]);
	}
	return h;
}

uint64_t conn_options_digest(const struct conn *c)
{
	return values_digest(c->options_set, c->options);
}

bool conn_speculative_option(struct conn *c, int fd, int level, int name,
			     const void *value, socklen_t len, int *rc)
{
	struct pool_socket *pooled = &c->spec;
	int i = carried_option_index(level, name);
	uint32_t bit;

	if (i < 0 || value == NULL || len > CONN_OPTION_VALUE_MAX)
		return false;
	bit = 1u << i;
	/* The same value the pooled socket already has: that call succeeded
	 * once with these very bytes, and would again. */
	if (!(pooled->notes & bit) || !same_value(&pooled->options[i], value, len)) {
		*rc = sys.setsockopt(fd, level, name, value, len);
		if (*rc != 0)
			return true;
		pooled->notes |= bit;
		pooled->options[i].len = (uint8_t)len;
		memcpy(pooled->options[i].value, value, len);
		pooled->digest = values_digest(pooled->notes & ~CONN_NOTE_FLAGS, pooled->options);
	}
	*rc = 0;
	c->options_set |= bit;
	c->options[i].len = (uint8_t)len;
	memcpy(c->options[i].value, value, len);
	return true;
}

int conn_copy_socket_state(struct conn *c, int from_fd, int to_fd, uint32_t to_notes,
			   uint64_t to_digest)
{
	int saved_errno = errno;
	uint32_t differ = c->options_set | (to_notes & ~CONN_NOTE_FLAGS);
	int from_flags;

	c->conn_bound_auth = (to_notes & CONN_NOTE_CONN_AUTH) != 0;

	/* The same options with the same values on both: a program that sets
	 * the same ones on every socket costs no system call here. */
	if ((to_notes & ~CONN_NOTE_FLAGS) == c->options_set &&
	    to_digest == conn_options_digest(c))
		differ = 0;
	for (size_t i = 0; i < NCARRIED; i++) {
		const struct carried_option *o = &carried_options[i];
		uint32_t bit = 1u << i;

		if (!(differ & bit))
			continue;
		if (!(c->options_set & bit) && !read_default_option(c, i, from_fd)) {
			differ &= ~bit;		/* e.g. IP_TOS on an IPv6 socket */
			continue;
		}
		(void)sys.setsockopt(to_fd, o->level, o->name, c->options[i].value,
				     c->options[i].len);
	}
	c->options_set |= differ;
	/* Only O_NONBLOCK is carried of the file status flags. */
	from_flags = conn_fd_nonblocking(c, from_fd);
	if (from_flags >= 0)
		from_flags = from_flags ? O_NONBLOCK : 0;
	if (from_flags >= 0 &&
	    !(from_flags & O_NONBLOCK) != !(to_notes & CONN_NOTE_NONBLOCK)) {
		int to_flags = sys.fcntl(to_fd, F_GETFL);

		if (to_flags >= 0)
			(void)sys.fcntl(to_fd, F_SETFL,
					(to_flags & ~O_NONBLOCK) | (from_flags & O_NONBLOCK));
	}
	errno = saved_errno;
	return from_flags;
}
