/*
 * option_report.h: telling the user that a connection was not pooled
 * because of a socket option sockpool cannot carry.
 *
 * Without it, a runtime that sets one such option on every socket (Java
 * once did, with IPV6_V6ONLY) is never pooled and nothing says why.  So
 * each refusal is counted in the statistics (per destination and for the
 * process: not_pooled_option, which sockpool-stat shows) and the first
 * refusal of each option is logged once per process at info level, naming
 * the option.
 */
#ifndef SOCKPOOL_CORE_OPTION_REPORT_H
#define SOCKPOOL_CORE_OPTION_REPORT_H

#include <stddef.h>

#include "conn.h"
#include "dest.h"

struct sp_stats_dest;

/* A connection of fd to key (stats: its record, may be NULL) is not
 * pooled because of opt.  Counts it; logs the option's first refusal.
 * Takes no lock, allocates nothing; keeps errno. */
void option_report_refused(const struct conn_refused_option *opt, int fd,
			   const struct dest_key *key, struct sp_stats_dest *stats);

/* "IPPROTO_TCP TCP_CONGESTION" for the options people meet, else
 * "level L option N"; always NUL-terminated. */
void option_report_name(int level, int name, char *buf, size_t len);

#endif
