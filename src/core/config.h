/*
 * config.h: sockpool's settings, read once from the environment.
 *
 * Every variable is validated strictly.  The first bad one makes
 * config_load() fail with a message that names the variable and what it
 * accepts; the shim then passes everything through (a typo must never
 * change what the program does).  Names and meanings: DESIGN.md.
 */
#ifndef SOCKPOOL_CORE_CONFIG_H
#define SOCKPOOL_CORE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "log.h"

#define CONFIG_MAX_RULES 32

/* One SOCKPOOL_DEST / SOCKPOOL_EXCLUDE pattern. */
struct dest_rule {
	uint16_t family;	/* 0: any address of any family */
	uint8_t prefix_len;	/* bits of addr that must match */
	uint8_t addr[16];
	uint16_t port;		/* 0: any port */
};

struct config {
	bool disabled;
	unsigned max_idle_per_dest;
	unsigned max_idle;
	unsigned idle_timeout_ms;
	unsigned retries;
	unsigned retry_deadline_ms;
	unsigned backoff_base_ms;
	unsigned backoff_max_ms;
	unsigned retry_budget_percent;
	unsigned replay_max_bytes;
	bool rewrite;
	bool drop_deepbind;	/* dlopen without RTLD_DEEPBIND (engine.h) */
	bool speculate;		/* socket() may hand out a pooled socket (speculate.h) */
	struct dest_rule dest[CONFIG_MAX_RULES];
	unsigned ndest;
	struct dest_rule exclude[CONFIG_MAX_RULES];
	unsigned nexclude;
	bool stats;
	bool stats_keep;		/* leave the segment at exit */
	char stats_dir[PATH_MAX];	/* empty: /dev/shm */
	enum log_level log_level;
	char log_file[PATH_MAX];	/* empty: stderr */
};

typedef char *(*config_getenv_fn)(const char *name);

/* Fills cfg from the environment seen through getenv_fn (secure_getenv in
 * the shim).  0 on success; -1 with a one-line reason in err otherwise, in
 * which case cfg->disabled is set and the rest holds the defaults. */
int config_load(struct config *cfg, config_getenv_fn getenv_fn, char *err,
		size_t errlen);

/* Whether connections to key may be pooled: matched by SOCKPOOL_DEST and
 * by no SOCKPOOL_EXCLUDE pattern. */
bool config_dest_allowed(const struct config *cfg, const struct dest_key *key);

#endif
