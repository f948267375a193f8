/*
 * config.c: parsing and validating the SOCKPOOL_* environment.
 *
 * Each setting is described once, in the table `int_settings` or in its
 * own small parser, together with what it accepts; that text is what a
 * user reads when a value is wrong.  Destination patterns accept address
 * literals only: resolving names inside a program's startup could block or
 * re-enter our own hooks, so "localhost" is the one name understood.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct int_setting {
	const char *name;
	size_t offset;		/* of an unsigned in struct config */
	unsigned min, max, def;
};

#define CFG_FIELD(f) offsetof(struct config, f)

static const struct int_setting int_settings[] = {
	{ "SOCKPOOL_MAX_IDLE_PER_DEST", CFG_FIELD(max_idle_per_dest), 0, 4096, 32 },
	{ "SOCKPOOL_MAX_IDLE", CFG_FIELD(max_idle), 0, 65536, 256 },
	/* Under the 5 s idle timeout of Apache and Node, with a second to
	 * spare, so that the server is not about to close what we hand out. */
	{ "SOCKPOOL_IDLE_TIMEOUT_MS", CFG_FIELD(idle_timeout_ms), 0, 3600000, 4000 },
	{ "SOCKPOOL_RETRIES", CFG_FIELD(retries), 0, 100, 8 },
	{ "SOCKPOOL_RETRY_DEADLINE_MS", CFG_FIELD(retry_deadline_ms), 0, 3600000, 2000 },
	{ "SOCKPOOL_BACKOFF_BASE_MS", CFG_FIELD(backoff_base_ms), 0, 60000, 10 },
	{ "SOCKPOOL_BACKOFF_MAX_MS", CFG_FIELD(backoff_max_ms), 0, 600000, 250 },
	{ "SOCKPOOL_RETRY_BUDGET_PERCENT", CFG_FIELD(retry_budget_percent), 0, 100, 20 },
	{ "SOCKPOOL_REPLAY_MAX_BYTES", CFG_FIELD(replay_max_bytes), 0, 16777216, 65536 },
};

static int fail(char *err, size_t errlen, const char *name, const char *value,
		const char *accepts)
{
	snprintf(err, errlen, "%s='%.64s' is not valid: %s", name, value, accepts);
	return -1;
}

static int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int parse_log_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++) {
		if (strcasecmp(s, names[i]) == 0)
			return *out = (enum log_level)i, 0;
	}
	if (strcasecmp(s, "warning") == 0)
		return *out = LOG_LEVEL_WARN, 0;
	return -1;
}

/* "80", or "*" for any port. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned v;

	if (strcmp(s, "*") == 0)
		return *port = 0, 0;
	if (parse_unsigned(s, 1, 65535, &v) != 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "ADDR" or "ADDR/LEN" for one family; 0 or -1. */
static int parse_addr(const char *s, int family, struct dest_rule *rule)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned bits = family == AF_INET ? 32 : 128;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (parse_unsigned(slash + 1, 0, bits, &bits) != 0)
			return -1;
	}
	if (inet_pton(family, buf, rule->addr) != 1)
		return -1;
	rule->family = (uint16_t)family;
	rule->prefix_len = (uint8_t)bits;
	return 0;
}

/* One pattern: "*", "*:PORT", "ADDR[/LEN]:PORT", "[V6[/LEN]]:PORT",
 * "localhost:PORT" (two rules).  Appends to rules; 0 or -1. */
static int parse_pattern(const char *pat, struct dest_rule *rules, unsigned *n)
{
	char host[96];
	const char *port_text;
	struct dest_rule rule = { 0 };

	if (strcmp(pat, "*") == 0) {
		if (*n >= CONFIG_MAX_RULES)
			return -1;
		rules[(*n)++] = rule;
		return 0;
	}
	if (pat[0] == '[') {
		const char *close = strchr(pat, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - pat - 1) >= sizeof(host))
			return -1;
		memcpy(host, pat + 1, (size_t)(close - pat - 1));
		host[close - pat - 1] = '\0';
		port_text = close + 2;
		if (parse_addr(host, AF_INET6, &rule) != 0)
			return -1;
	} else {
		const char *colon = strrchr(pat, ':');

		if (colon == NULL || (size_t)(colon - pat) >= sizeof(host))
			return -1;
		memcpy(host, pat, (size_t)(colon - pat));
		host[colon - pat] = '\0';
		port_text = colon + 1;
		if (strcmp(host, "*") == 0) {
			rule.family = 0;
		} else if (strcasecmp(host, "localhost") == 0) {
			struct dest_rule v6 = { .family = AF_INET6, .prefix_len = 128 };

			v6.addr[15] = 1;
			if (parse_port(port_text, &v6.port) != 0 || *n >= CONFIG_MAX_RULES)
				return -1;
			rules[(*n)++] = v6;
			(void)parse_addr("127.0.0.0/8", AF_INET, &rule);
		} else if (parse_addr(host, AF_INET, &rule) != 0) {
			return -1;
		}
	}
	if (parse_port(port_text, &rule.port) != 0 || *n >= CONFIG_MAX_RULES)
		return -1;
	rules[(*n)++] = rule;
	return 0;
}

/* Comma-separated patterns, blanks around them ignored.  An empty list
 * or an empty element ("", ",", "*,,*", "a, ") is an error like any
 * other typo: it cannot be told whether the user meant "nothing" or
 * "everything", and silently picking one changes what is pooled. */
static int parse_pattern_list(const char *s, struct dest_rule *rules, unsigned *n)
{
	char buf[2048];
	char *tok = buf;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*n = 0;
	for (;;) {
		char *comma = strchr(tok, ',');
		char *end;

		if (comma != NULL)
			*comma = '\0';
		end = tok + strlen(tok);
		while (*tok == ' ' || *tok == '\t')
			tok++;
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok == '\0' || parse_pattern(tok, rules, n) != 0)
			return -1;
		if (comma == NULL)
			return 0;
		tok = comma + 1;
	}
}

static void config_set_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++)
		*(unsigned *)((char *)cfg + int_settings[i].offset) = int_settings[i].def;
	cfg->rewrite = true;
	/* On: the flag's one use, a host program's clashing libraries (PHP
	 * inside Apache), is rare; without this, extensions PHP loads (curl)
	 * bypass sockpool silently.  README, "php-curl", says more. */
	cfg->drop_deepbind = true;
	cfg->speculate = true;
	cfg->stats = true;
	cfg->log_level = LOG_LEVEL_WARN;
	cfg->ndest = 1;		/* one rule matching everything: "*" */
}

#define DEST_LIST_ACCEPTS							\
	"expected comma-separated *, ADDR:PORT, CIDR:PORT, [V6]:PORT or "	\
	"localhost:PORT (PORT may be *), at most 32, none empty (unset for the default)"

static int copy_path(const char *name, const char *value, char *dst, char *err,
		     size_t errlen)
{
	if (value[0] != '/' || strlen(value) >= PATH_MAX)
		return fail(err, errlen, name, value, "expected an absolute path");
	strcpy(dst, value);
	return 0;
}

/* Base above max: blame the variable the user set (both, or only one of
 * them against the other's default). */
static int fail_backoff_order(const struct config *cfg, config_getenv_fn get,
			      char *err, size_t errlen)
{
	const char *base = get("SOCKPOOL_BACKOFF_BASE_MS");
	const char *max = get("SOCKPOOL_BACKOFF_MAX_MS");
	char accepts[80];

	if (base != NULL) {
		snprintf(accepts, sizeof(accepts),
			 "must not exceed SOCKPOOL_BACKOFF_MAX_MS (%u)", cfg->backoff_max_ms);
		return fail(err, errlen, "SOCKPOOL_BACKOFF_BASE_MS", base, accepts);
	}
	snprintf(accepts, sizeof(accepts),
		 "must be at least SOCKPOOL_BACKOFF_BASE_MS (%u)", cfg->backoff_base_ms);
	return fail(err, errlen, "SOCKPOOL_BACKOFF_MAX_MS", max != NULL ? max : "", accepts);
}

static int config_parse(struct config *cfg, config_getenv_fn get, char *err,
			size_t errlen)
{
	const char *v;

	if ((v = get("SOCKPOOL_DISABLE")) != NULL && parse_bool(v, &cfg->disabled) != 0)
		return fail(err, errlen, "SOCKPOOL_DISABLE", v, "expected 0 or 1");
	for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++) {
		const struct int_setting *s = &int_settings[i];
		char accepts[80];

		if ((v = get(s->name)) == NULL)
			continue;
		if (parse_unsigned(v, s->min, s->max, (unsigned *)((char *)cfg + s->offset)) != 0) {
			snprintf(accepts, sizeof(accepts),
				 "expected a whole number from %u to %u", s->min, s->max);
			return fail(err, errlen, s->name, v, accepts);
		}
	}
	if (cfg->backoff_base_ms > cfg->backoff_max_ms)
		return fail_backoff_order(cfg, get, err, errlen);
	if ((v = get("SOCKPOOL_REWRITE")) != NULL && parse_bool(v, &cfg->rewrite) != 0)
		return fail(err, errlen, "SOCKPOOL_REWRITE", v, "expected 0 or 1");
	if ((v = get("SOCKPOOL_DROP_DEEPBIND")) != NULL && parse_bool(v, &cfg->drop_deepbind) != 0)
		return fail(err, errlen, "SOCKPOOL_DROP_DEEPBIND", v, "expected 0 or 1");
	if ((v = get("SOCKPOOL_SPECULATE")) != NULL && parse_bool(v, &cfg->speculate) != 0)
		return fail(err, errlen, "SOCKPOOL_SPECULATE", v, "expected 0 or 1");
	if ((v = get("SOCKPOOL_STATS")) != NULL && parse_bool(v, &cfg->stats) != 0)
		return fail(err, errlen, "SOCKPOOL_STATS", v, "expected 0 or 1");
	if ((v = get("SOCKPOOL_STATS_KEEP")) != NULL && parse_bool(v, &cfg->stats_keep) != 0)
		return fail(err, errlen, "SOCKPOOL_STATS_KEEP", v, "expected 0 or 1");
	if ((v = get("SOCKPOOL_DEST")) != NULL &&
	    parse_pattern_list(v, cfg->dest, &cfg->ndest) != 0)
		return fail(err, errlen, "SOCKPOOL_DEST", v, DEST_LIST_ACCEPTS);
	if ((v = get("SOCKPOOL_EXCLUDE")) != NULL &&
	    parse_pattern_list(v, cfg->exclude, &cfg->nexclude) != 0)
		return fail(err, errlen, "SOCKPOOL_EXCLUDE", v, DEST_LIST_ACCEPTS);
	if ((v = get("SOCKPOOL_STATS_DIR")) != NULL &&
	    copy_path("SOCKPOOL_STATS_DIR", v, cfg->stats_dir, err, errlen) != 0)
		return -1;
	if ((v = get("SOCKPOOL_LOG")) != NULL && parse_log_level(v, &cfg->log_level) != 0)
		return fail(err, errlen, "SOCKPOOL_LOG", v, "expected error, warn, info or debug");
	if ((v = get("SOCKPOOL_LOG_FILE")) != NULL &&
	    copy_path("SOCKPOOL_LOG_FILE", v, cfg->log_file, err, errlen) != 0)
		return -1;
	return 0;
}

int config_load(struct config *cfg, config_getenv_fn get, char *err, size_t errlen)
{
	config_set_defaults(cfg);
	if (config_parse(cfg, get, err, errlen) == 0)
		return 0;
	config_set_defaults(cfg);
	cfg->disabled = true;
	return -1;
}

/* key's address as seen by a rule of family: an IPv4 rule names the same
 * server as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), which is how
 * dual-stack programs (Java...) reach IPv4 servers.  NULL: no match. */
static const uint8_t *key_addr_for_family(const struct dest_key *key, uint16_t family)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (key->family == family)
		return key->addr;
	if (family == AF_INET && key->family == AF_INET6 &&
	    memcmp(key->addr, v4_mapped, sizeof(v4_mapped)) == 0)
		return key->addr + sizeof(v4_mapped);
	return NULL;
}

static bool rule_matches(const struct dest_rule *r, const struct dest_key *key)
{
	const uint8_t *addr;
	unsigned full, rest;

	if (r->port != 0 && r->port != key->port)
		return false;
	if (r->family == 0)
		return true;
	if ((addr = key_addr_for_family(key, r->family)) == NULL)
		return false;
	full = r->prefix_len / 8;
	rest = r->prefix_len % 8;
	if (memcmp(r->addr, addr, full) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((r->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

static bool rules_match(const struct dest_rule *rules, unsigned n,
			const struct dest_key *key)
{
	for (unsigned i = 0; i < n; i++) {
		if (rule_matches(&rules[i], key))
			return true;
	}
	return false;
}

bool config_dest_allowed(const struct config *cfg, const struct dest_key *key)
{
	return rules_match(cfg->dest, cfg->ndest, key) &&
	       !rules_match(cfg->exclude, cfg->nexclude, key);
}
