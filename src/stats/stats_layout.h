/*
 * stats_layout.h: the shared-memory statistics segment, the one contract
 * between the shim (writer) and sockpool-stat (reader).
 *
 * One segment per process, a file named "sockpool.<uid>.<pid>" in
 * /dev/shm or SOCKPOOL_STATS_DIR, mode 0600.  It holds a header, the
 * process-wide counters and a fixed table of per-destination records.
 *
 * Rules both sides keep:
 *  - Every counter is a uint64_t updated and read with relaxed __atomic
 *    builtins; a reader may see counters of one record from slightly
 *    different moments, never a torn value.
 *  - A destination record is filled in before its `in_use` flag is set with
 *    release order, and `ndests` only grows; a reader loads both with
 *    acquire order and ignores records it has not seen published.
 *  - The reader treats the whole segment as untrusted input: it checks
 *    magic, version, sizes and counts against the file size before use.
 *  - Any change of layout bumps SP_STATS_VERSION.
 */
#ifndef SOCKPOOL_STATS_LAYOUT_H
#define SOCKPOOL_STATS_LAYOUT_H

#include <stdint.h>

#define SP_STATS_MAGIC 0x3154534c4f4f5053ULL	/* "SPOOLST1" little-endian */
#define SP_STATS_VERSION 6u	/* 6: the speculation counters */
#define SP_STATS_MAX_DESTS 64u
#define SP_STATS_PROGRAM_MAX 64u
#define SP_STATS_FILE_PREFIX "sockpool."

/* Counters kept per destination and for the whole process. */
#define SP_COUNTER_LIST(X)						\
	X(CONNS_OPENED, "conns_opened", "connections opened")		\
	X(CONNS_REUSED, "conns_reused", "connects served from the pool") \
	X(STALE_DISCARDED, "stale_discarded", "idle sockets found dead")	\
	X(REQUESTS, "requests", "HTTP requests sent")			\
	X(IDLE_NOW, "idle_now", "idle sockets in the pool now")		\
	X(CONNECT_RETRIES, "connect_retries", "failed connects tried again") \
	X(REPLAYS_RESET, "replays_reset", "requests sent again after a reset") \
	X(REPLAYS_EPIPE, "replays_epipe", "requests sent again after a broken pipe") \
	X(REPLAYS_EOF, "replays_eof", "requests sent again after the server closed") \
	X(FRESH_FOR_UNSAFE, "fresh_for_unsafe", "non-idempotent requests moved to a new connection") \
	X(BUDGET_REFUSALS, "budget_refusals", "retries refused by the retry budget") \
	X(ERRORS_PASSED, "errors_passed", "errors handed to the program") \
	X(IN_USE_NOW, "in_use_now", "managed connections open now")	\
	X(NOT_POOLED_OPTION, "not_pooled_option", "connections not pooled for a socket option sockpool cannot carry") \
	X(BROKER_TAKEN_BACK, "broker_taken_back", "idle sockets given to the shared pool (broker)") \
	X(BROKER_HANDED_OUT, "broker_handed_out", "idle sockets the shared pool handed out") \
	X(BROKER_DROPPED, "broker_dropped", "idle sockets the shared pool closed (server closed, expired, over a cap)") \
	X(BROKER_REFUSED, "broker_refused", "peers the shared pool refused (another user)") \
	X(HANDOFF_LOST, "handoff_lost", "sockets lost in a hand-off (MSG_CTRUNC: out of descriptors)") \
	X(SPECULATED, "speculated", "idle sockets socket() handed out before its connect") \
	X(SPECULATION_SETTLED, "speculation_settled", "of those, replaced by a new socket before connect (a wrong guess)")

enum sp_counter {
#define SP_COUNTER_ENUM(id, name, help) SP_##id,
	SP_COUNTER_LIST(SP_COUNTER_ENUM)
#undef SP_COUNTER_ENUM
	SP_COUNTER_COUNT
};

/* Latency histograms kept beside the counters, in microseconds: bucket i
 * counts values v with 2^i <= v < 2^(i+1) (bucket 0 also counts 0), the
 * last bucket everything beyond. */
#define SP_HIST_BUCKETS 32u
#define SP_HIST_LIST(X)							\
	X(CONNECT_TIME, "connect_us", "time to connect a new connection") \
	X(REQUEST_TIME, "request_us", "first request byte sent to response complete") \
	X(IDLE_AGE, "idle_age_us", "how long a reused connection had been idle")

enum sp_hist {
#define SP_HIST_ENUM(id, name, help) SP_HIST_##id,
	SP_HIST_LIST(SP_HIST_ENUM)
#undef SP_HIST_ENUM
	SP_HIST_COUNT
};

struct sp_stats_counters {
	uint64_t c[SP_COUNTER_COUNT];
	uint64_t h[SP_HIST_COUNT][SP_HIST_BUCKETS];
};

struct sp_stats_dest {
	uint32_t in_use;	/* 1 once the record is published */
	uint16_t family;	/* AF_INET or AF_INET6 */
	uint16_t port;		/* host byte order */
	uint32_t scope_id;
	uint32_t reserved;
	uint8_t addr[16];
	struct sp_stats_counters counters;
};

struct sp_stats_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;		/* sizeof(struct sp_stats_header) */
	uint64_t total_size;		/* header + max_dests records */
	uint32_t dest_record_size;	/* sizeof(struct sp_stats_dest) */
	uint32_t max_dests;
	uint32_t ndests;		/* records claimed so far, only grows */
	int32_t pid;
	uint64_t start_time_ns;		/* CLOCK_REALTIME at creation */
	char program[SP_STATS_PROGRAM_MAX];	/* NUL-terminated */
	struct sp_stats_counters global;
};

#endif
