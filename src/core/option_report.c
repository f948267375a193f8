/*
 * option_report.c: counts and names the socket options that keep a
 * connection out of the pool (see option_report.h).
 *
 * "Once per option" is kept in a small fixed set of (level, name) pairs
 * claimed with compare-and-swap, so reporting never takes a lock: it runs
 * in connect() and close() of the program.  A process meets a handful of
 * distinct options at most; past the set's size, options are still
 * counted, and logged at debug level only.
 */
#include "option_report.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "../stats/stats_writer.h"
#include "log.h"

#define REPORTED_MAX 32

/* level and name, plus a top bit so that no claimed slot reads 0. */
static uint64_t reported[REPORTED_MAX];

static uint64_t option_key(int level, int name)
{
	return 1ull << 63 | (uint64_t)((uint32_t)level & 0x7fffffffu) << 32 | (uint32_t)name;
}

/* True the first time key is seen in this process; false after that,
 * and when the set is full (see above). */
static bool first_report(uint64_t key)
{
	for (size_t i = 0; i < REPORTED_MAX; i++) {
		uint64_t seen = __atomic_load_n(&reported[i], __ATOMIC_RELAXED);

		if (seen == 0 && __atomic_compare_exchange_n(&reported[i], &seen, key, false,
							     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
		if (seen == key)	/* also when another thread just claimed it */
			return false;
	}
	return false;
}

struct option_name {
	int level, name;
	const char *text;
};

#define OPTION_NAME(level, name) { level, name, #level " " #name }

/* Options that keep a socket unpoolable, as a program may meet them. */
static const struct option_name option_names[] = {
	OPTION_NAME(SOL_SOCKET, SO_BINDTODEVICE),
	OPTION_NAME(SOL_SOCKET, SO_ATTACH_FILTER),
	OPTION_NAME(SOL_SOCKET, SO_RCVLOWAT),
	OPTION_NAME(SOL_SOCKET, SO_ZEROCOPY),
	OPTION_NAME(SOL_SOCKET, SO_INCOMING_CPU),
	OPTION_NAME(SOL_SOCKET, SO_BUSY_POLL),
	OPTION_NAME(SOL_SOCKET, SO_TIMESTAMP),
	OPTION_NAME(IPPROTO_TCP, TCP_CONGESTION),
	OPTION_NAME(IPPROTO_TCP, TCP_FASTOPEN_CONNECT),
	OPTION_NAME(IPPROTO_TCP, TCP_MAXSEG),
	OPTION_NAME(IPPROTO_TCP, TCP_CORK),
	OPTION_NAME(IPPROTO_TCP, TCP_NOTSENT_LOWAT),
	OPTION_NAME(IPPROTO_TCP, TCP_WINDOW_CLAMP),
	OPTION_NAME(IPPROTO_TCP, TCP_MD5SIG),
	OPTION_NAME(IPPROTO_TCP, TCP_SYNCNT),
	OPTION_NAME(IPPROTO_TCP, TCP_LINGER2),
	OPTION_NAME(IPPROTO_TCP, TCP_DEFER_ACCEPT),
	OPTION_NAME(IPPROTO_TCP, TCP_ULP),
	OPTION_NAME(IPPROTO_IP, IP_TRANSPARENT),
	OPTION_NAME(IPPROTO_IP, IP_FREEBIND),
	OPTION_NAME(IPPROTO_IP, IP_TTL),
	OPTION_NAME(IPPROTO_IP, IP_MTU_DISCOVER),
	OPTION_NAME(IPPROTO_IP, IP_RECVERR),
	OPTION_NAME(IPPROTO_IP, IP_OPTIONS),
	OPTION_NAME(IPPROTO_IPV6, IPV6_V6ONLY),
	OPTION_NAME(IPPROTO_IPV6, IPV6_UNICAST_HOPS),
	OPTION_NAME(IPPROTO_IPV6, IPV6_MTU_DISCOVER),
	OPTION_NAME(IPPROTO_IPV6, IPV6_RECVERR),
};

void option_report_name(int level, int name, char *buf, size_t len)
{
	if (len == 0)
		return;
	for (size_t i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++) {
		if (option_names[i].level == level && option_names[i].name == name) {
			snprintf(buf, len, "%s", option_names[i].text);
			return;
		}
	}
	snprintf(buf, len, "level %d option %d", level, name);
}

void option_report_refused(const struct conn_refused_option *opt, int fd,
			   const struct dest_key *key, struct sp_stats_dest *stats)
{
	int saved_errno = errno;
	char option[64], dest[DEST_KEY_TEXT_MAX];

	stats_count(stats, SP_NOT_POOLED_OPTION, 1);
	if (!log_enabled(LOG_LEVEL_INFO))
		goto out;
	option_report_name(opt->level, opt->name, option, sizeof(option));
	dest_key_format(key, dest, sizeof(dest));
	if (first_report(option_key(opt->level, opt->name)))
		log_info("fd %d: connection to %s not pooled: the program set socket option %s, "
			 "which sockpool cannot carry to another socket (said once per option)",
			 fd, dest, option);
	else
		log_debug("fd %d: connection to %s not pooled: socket option %s", fd, dest, option);
out:
	errno = saved_errno;
}
