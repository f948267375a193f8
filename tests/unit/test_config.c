/*
 * test_config.c: the SOCKPOOL_* environment (src/core/config.h) and
 * destination keys (src/core/dest.h).
 *
 * config_load() reads the environment through a fake getenv backed by a
 * small name/value table, so each test states exactly what is set.  A bad
 * value must fail the load with a message naming the variable, and leave
 * the shim disabled with every other setting at its default.  Destination
 * patterns are judged by what config_dest_allowed() says about real keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "sys_libc.h"
#include "../../src/core/config.h"
#include "../../src/core/dest.h"

/* ---- the fake environment ---- */

#define ENV_MAX 8

static const char *env[ENV_MAX][2];	/* name, value; NULL name ends it */

static char *fake_getenv(const char *name)
{
	for (int i = 0; i < ENV_MAX && env[i][0] != NULL; i++) {
		if (strcmp(env[i][0], name) == 0)
			return (char *)env[i][1];
	}
	return NULL;
}

static void env_clear(void)
{
	memset(env, 0, sizeof(env));
}

static void env_set(const char *name, const char *value)
{
	int i = 0;

	while (env[i][0] != NULL && strcmp(env[i][0], name) != 0)
		i++;
	assert_true(i < ENV_MAX - 1);
	env[i][0] = name;
	env[i][1] = value;
}

static struct config cfg;
static char err[512];

/* Loads the configuration from env; the result of config_load. */
static int load(void)
{
	memset(err, 0, sizeof(err));
	return config_load(&cfg, fake_getenv, err, sizeof(err));
}

static int load_one(const char *name, const char *value)
{
	env_clear();
	env_set(name, value);
	return load();
}

static int reset_env(void **state)
{
	(void)state;
	env_clear();
	return 0;
}

/* A failed load: -1, a message naming the variable, the shim disabled. */
static void assert_rejected(int rc, const char *name)
{
	if (rc != -1)
		fail_msg("%s accepted a bad value", name);
	if (strstr(err, name) == NULL)
		fail_msg("error does not name %s: \"%s\"", name, err);
	assert_true(cfg.disabled);
}

/* ---- defaults ---- */

static void assert_defaults_except_disabled(void)
{
	assert_int_equal(cfg.max_idle_per_dest, 32);
	assert_int_equal(cfg.max_idle, 256);
	assert_int_equal(cfg.idle_timeout_ms, 4000);
	assert_int_equal(cfg.retries, 8);
	assert_int_equal(cfg.retry_deadline_ms, 2000);
	assert_int_equal(cfg.backoff_base_ms, 10);
	assert_int_equal(cfg.backoff_max_ms, 250);
	assert_int_equal(cfg.retry_budget_percent, 20);
	assert_int_equal(cfg.replay_max_bytes, 65536);
	assert_true(cfg.rewrite);
	assert_true(cfg.drop_deepbind);
	assert_true(cfg.stats);
	assert_string_equal(cfg.stats_dir, "");
	assert_int_equal(cfg.log_level, LOG_LEVEL_WARN);
	assert_string_equal(cfg.log_file, "");
	assert_int_equal(cfg.nexclude, 0);
}

static void test_defaults_when_nothing_is_set(void **state)
{
	struct dest_key any = { .family = AF_INET6, .port = 1 };

	(void)state;
	assert_int_equal(load(), 0);
	assert_false(cfg.disabled);
	assert_defaults_except_disabled();
	assert_true(config_dest_allowed(&cfg, &any));
}

static void test_after_an_error_everything_is_default_and_disabled(void **state)
{
	(void)state;
	env_set("SOCKPOOL_MAX_IDLE", "10");
	env_set("SOCKPOOL_REWRITE", "0");
	env_set("SOCKPOOL_EXCLUDE", "127.0.0.1:80");
	env_set("SOCKPOOL_RETRIES", "abc");
	assert_rejected(load(), "SOCKPOOL_RETRIES");
	assert_defaults_except_disabled();
	assert_non_null(strstr(err, "'abc'"));
}

static void test_error_message_fits_a_small_buffer(void **state)
{
	char small[16];

	(void)state;
	memset(small, 'x', sizeof(small));
	env_set("SOCKPOOL_RETRIES", "abc");
	assert_int_equal(config_load(&cfg, fake_getenv, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* ---- integer settings ---- */

struct int_var {
	const char *name;
	size_t offset;
	unsigned min, max;
	const char *partner, *partner_value;	/* set alongside, to stay coherent */
};

#define FIELD(f) offsetof(struct config, f)

static const struct int_var int_vars[] = {
	{ "SOCKPOOL_MAX_IDLE_PER_DEST", FIELD(max_idle_per_dest), 0, 4096, NULL, NULL },
	{ "SOCKPOOL_MAX_IDLE", FIELD(max_idle), 0, 65536, NULL, NULL },
	{ "SOCKPOOL_IDLE_TIMEOUT_MS", FIELD(idle_timeout_ms), 0, 3600000, NULL, NULL },
	{ "SOCKPOOL_RETRIES", FIELD(retries), 0, 100, NULL, NULL },
	{ "SOCKPOOL_RETRY_DEADLINE_MS", FIELD(retry_deadline_ms), 0, 3600000, NULL, NULL },
	{ "SOCKPOOL_BACKOFF_BASE_MS", FIELD(backoff_base_ms), 0, 60000,
	  "SOCKPOOL_BACKOFF_MAX_MS", "600000" },
	{ "SOCKPOOL_BACKOFF_MAX_MS", FIELD(backoff_max_ms), 0, 600000,
	  "SOCKPOOL_BACKOFF_BASE_MS", "0" },
	{ "SOCKPOOL_RETRY_BUDGET_PERCENT", FIELD(retry_budget_percent), 0, 100, NULL, NULL },
	{ "SOCKPOOL_REPLAY_MAX_BYTES", FIELD(replay_max_bytes), 0, 16777216, NULL, NULL },
};

#define N_INT_VARS (sizeof(int_vars) / sizeof(int_vars[0]))

static int load_int_var(const struct int_var *v, const char *value)
{
	env_clear();
	if (v->partner != NULL)
		env_set(v->partner, v->partner_value);
	env_set(v->name, value);
	return load();
}

static unsigned field_of(const struct int_var *v)
{
	return *(const unsigned *)((const char *)&cfg + v->offset);
}

static void test_every_integer_variable_accepts_its_whole_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_INT_VARS; i++) {
		const struct int_var *v = &int_vars[i];
		unsigned values[] = { v->min, v->max, (v->min + v->max) / 2, 7 };

		for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
			char text[16];

			snprintf(text, sizeof(text), "%u", values[j]);
			if (load_int_var(v, text) != 0)
				fail_msg("%s=%s rejected: %s", v->name, text, err);
			assert_false(cfg.disabled);
			assert_int_equal(field_of(v), values[j]);
		}
	}
}

static void test_every_integer_variable_rejects_junk(void **state)
{
	static const char *const junk[] = {
		"abc", "-1", "1.5", "", " 5", "5 ", "+5", "0x10", "5k",
		"99999999999", "99999999999999999999999",
	};

	(void)state;
	for (size_t i = 0; i < N_INT_VARS; i++) {
		char above[16];

		snprintf(above, sizeof(above), "%u", int_vars[i].max + 1);
		assert_rejected(load_int_var(&int_vars[i], above), int_vars[i].name);
		for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++)
			assert_rejected(load_int_var(&int_vars[i], junk[j]), int_vars[i].name);
	}
}

static void test_backoff_base_above_max_is_rejected(void **state)
{
	(void)state;
	env_set("SOCKPOOL_BACKOFF_BASE_MS", "500");
	env_set("SOCKPOOL_BACKOFF_MAX_MS", "100");
	assert_rejected(load(), "SOCKPOOL_BACKOFF_BASE_MS");
	assert_non_null(strstr(err, "'500'"));
}

/* Only the max is set, below the default base: the message must be about
 * what the user wrote, not an empty value of a variable never set. */
static void test_backoff_max_below_default_base_names_the_variable_set(void **state)
{
	(void)state;
	env_set("SOCKPOOL_BACKOFF_MAX_MS", "5");
	assert_rejected(load(), "SOCKPOOL_BACKOFF_MAX_MS");
	if (strstr(err, "SOCKPOOL_BACKOFF_MAX_MS='5'") == NULL || strstr(err, "''") != NULL)
		fail_msg("confusing error: \"%s\"", err);
}

/* ---- booleans, log levels, paths ---- */

static const char *const bool_vars[] = { "SOCKPOOL_DISABLE", "SOCKPOOL_REWRITE", "SOCKPOOL_STATS",
					 "SOCKPOOL_DROP_DEEPBIND", "SOCKPOOL_SPECULATE" };

static bool bool_field(const char *name)
{
	if (strcmp(name, "SOCKPOOL_DISABLE") == 0)
		return cfg.disabled;
	if (strcmp(name, "SOCKPOOL_DROP_DEEPBIND") == 0)
		return cfg.drop_deepbind;
	if (strcmp(name, "SOCKPOOL_SPECULATE") == 0)
		return cfg.speculate;
	return strcmp(name, "SOCKPOOL_REWRITE") == 0 ? cfg.rewrite : cfg.stats;
}

static void test_booleans_accept_yes_and_no_words(void **state)
{
	static const struct { const char *text; bool value; } words[] = {
		{ "1", true }, { "yes", true }, { "TRUE", true }, { "On", true },
		{ "0", false }, { "no", false }, { "False", false }, { "OFF", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bool_vars) / sizeof(bool_vars[0]); i++) {
		for (size_t j = 0; j < sizeof(words) / sizeof(words[0]); j++) {
			if (load_one(bool_vars[i], words[j].text) != 0)
				fail_msg("%s=%s rejected: %s", bool_vars[i], words[j].text, err);
			assert_int_equal(bool_field(bool_vars[i]), words[j].value);
		}
	}
}

static void test_booleans_reject_junk(void **state)
{
	static const char *const junk[] = { "", "2", "y", "enable", " 1", "1 " };

	(void)state;
	for (size_t i = 0; i < sizeof(bool_vars) / sizeof(bool_vars[0]); i++) {
		for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++)
			assert_rejected(load_one(bool_vars[i], junk[j]), bool_vars[i]);
	}
}

static void test_disable_1_disables_without_error(void **state)
{
	(void)state;
	assert_int_equal(load_one("SOCKPOOL_DISABLE", "1"), 0);
	assert_true(cfg.disabled);
	assert_string_equal(err, "");
}

static void test_log_levels_are_named_case_insensitively(void **state)
{
	static const struct { const char *text; enum log_level level; } levels[] = {
		{ "error", LOG_LEVEL_ERROR }, { "warn", LOG_LEVEL_WARN },
		{ "warning", LOG_LEVEL_WARN }, { "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG }, { "DEBUG", LOG_LEVEL_DEBUG },
		{ "Error", LOG_LEVEL_ERROR },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		assert_int_equal(load_one("SOCKPOOL_LOG", levels[i].text), 0);
		assert_int_equal(cfg.log_level, levels[i].level);
	}
	assert_rejected(load_one("SOCKPOOL_LOG", "verbose"), "SOCKPOOL_LOG");
	assert_rejected(load_one("SOCKPOOL_LOG", ""), "SOCKPOOL_LOG");
	assert_rejected(load_one("SOCKPOOL_LOG", "3"), "SOCKPOOL_LOG");
}

static void test_stats_dir_and_log_file_must_be_absolute(void **state)
{
	static const char *const bad[] = { "", "relative/dir", "./x", "~/x" };

	(void)state;
	assert_int_equal(load_one("SOCKPOOL_STATS_DIR", "/run/user/1000"), 0);
	assert_string_equal(cfg.stats_dir, "/run/user/1000");
	assert_int_equal(load_one("SOCKPOOL_LOG_FILE", "/tmp/sockpool.log"), 0);
	assert_string_equal(cfg.log_file, "/tmp/sockpool.log");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_rejected(load_one("SOCKPOOL_STATS_DIR", bad[i]), "SOCKPOOL_STATS_DIR");
		assert_rejected(load_one("SOCKPOOL_LOG_FILE", bad[i]), "SOCKPOOL_LOG_FILE");
	}
}

/* ---- destination patterns ---- */

/* "1.2.3.4:80" or "[::1]:80" as a key; a "%N" after a v6 address sets
 * its scope. */
static struct dest_key key_of(const char *text)
{
	struct dest_key key = { 0 };
	char addr[64];
	const char *colon = strrchr(text, ':');

	assert_non_null(colon);
	if (text[0] == '[') {
		char *percent;

		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - text - 2), text + 1);
		percent = strchr(addr, '%');
		if (percent != NULL) {
			*percent = '\0';
			key.scope_id = (uint32_t)atoi(percent + 1);
		}
		key.family = AF_INET6;
	} else {
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - text), text);
		key.family = AF_INET;
	}
	assert_int_equal(inet_pton(key.family, addr, key.addr), 1);
	key.port = (uint16_t)atoi(colon + 1);
	return key;
}

struct pattern_case {
	const char *pattern;
	const char *allowed[4];		/* keys it matches */
	const char *refused[4];		/* keys it does not */
};

static const struct pattern_case pattern_cases[] = {
	{ "*", { "10.0.0.1:1", "[::1]:80", "[fe80::1%2]:65535" }, { NULL } },
	{ "127.0.0.1:8080", { "127.0.0.1:8080" },
	  { "127.0.0.1:8081", "127.0.0.2:8080", "[::1]:8080" } },
	{ "127.0.0.0/8:*", { "127.0.0.1:1", "127.255.9.9:65535" },
	  { "128.0.0.1:80", "[::1]:80" } },
	{ "[::1]:80", { "[::1]:80" }, { "[::2]:80", "[::1]:81", "127.0.0.1:80" } },
	{ "[2001:db8::/32]:443", { "[2001:db8::1]:443", "[2001:db8:ffff::9]:443" },
	  { "[2001:db9::1]:443", "[2001:db8::1]:80" } },
	{ "localhost:80", { "127.0.0.5:80", "[::1]:80", "127.0.0.1:80" },
	  { "10.0.0.1:80", "127.0.0.1:81", "[::2]:80" } },
	{ "LocalHost:*", { "127.0.0.1:1", "[::1]:9" }, { "10.0.0.1:1" } },
	{ "*:8080", { "10.1.1.1:8080", "[::1]:8080" }, { "10.1.1.1:80", "[::1]:80" } },
	{ "10.0.0.1:80, [::1]:443", { "10.0.0.1:80", "[::1]:443" },
	  { "10.0.0.1:443", "[::1]:80" } },
	{ " 10.0.0.1:80 ,\t10.0.0.2:80 ", { "10.0.0.1:80", "10.0.0.2:80" }, { "10.0.0.3:80" } },
	{ "10.16.0.0/12:80", { "10.16.0.1:80", "10.31.255.255:80" },
	  { "10.15.255.255:80", "10.32.0.0:80" } },
	{ "0.0.0.0/0:80", { "1.2.3.4:80", "255.255.255.255:80" }, { "1.2.3.4:81", "[::1]:80" } },
	{ "[::/0]:*", { "[::1]:1", "[2001:db8::1]:443" }, { "127.0.0.1:80" } },
};

/* Loads the pattern into var and checks every key of the case: in
 * SOCKPOOL_DEST a matched key is allowed, in SOCKPOOL_EXCLUDE refused. */
static void check_pattern_case(const struct pattern_case *pc, const char *var,
			       bool match_allows)
{
	if (load_one(var, pc->pattern) != 0)
		fail_msg("%s=\"%s\" rejected: %s", var, pc->pattern, err);
	for (int i = 0; i < 4 && pc->allowed[i] != NULL; i++) {
		struct dest_key key = key_of(pc->allowed[i]);

		if (config_dest_allowed(&cfg, &key) != match_allows)
			fail_msg("%s=\"%s\": wrong verdict for %s", var, pc->pattern, pc->allowed[i]);
	}
	for (int i = 0; i < 4 && pc->refused[i] != NULL; i++) {
		struct dest_key key = key_of(pc->refused[i]);

		if (config_dest_allowed(&cfg, &key) == match_allows)
			fail_msg("%s=\"%s\": wrong verdict for %s", var, pc->pattern, pc->refused[i]);
	}
}

static void test_patterns_match_what_they_say(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
		check_pattern_case(&pattern_cases[i], "SOCKPOOL_DEST", true);
		check_pattern_case(&pattern_cases[i], "SOCKPOOL_EXCLUDE", false);
	}
}

static void test_bad_patterns_are_rejected(void **state)
{
	static const char *const bad[] = {
		"host.example:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000",
		"10.0.0.0/33:80", ",,", " , ", "[::1]80", "::1:80", "[::1]:", "[::1/129]:80",
		"127.0.0.1:-1", "127.0.0.1:+80", "10.0.0.0/:80", "10.0.0.0/x:80", "[::1:80",
		"127.0.0.1:80, ,127.0.0.2:80", "localhost", "localhost:0", "[127.0.0.1]:80",
		"*:", "**", "1.2.3:80",
		/* Empty lists and empty elements: "nothing" or "everything"? */
		"", " ", ",", "*,,*", "*,", ",*", "127.0.0.1:80,", "*, ,*",
	};
	static const char *const vars[] = { "SOCKPOOL_DEST", "SOCKPOOL_EXCLUDE" };

	(void)state;
	for (size_t v = 0; v < 2; v++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int rc = load_one(vars[v], bad[i]);

			if (rc != -1)
				fail_msg("%s=\"%s\" accepted", vars[v], bad[i]);
			assert_rejected(rc, vars[v]);
		}
	}
}

/* CONFIG_MAX_RULES patterns fit; one more is an error, not a silent cut.
 * localhost takes two rules. */
static void test_pattern_list_is_limited_to_max_rules(void **state)
{
	char list[2048] = "";

	(void)state;
	for (int i = 0; i < CONFIG_MAX_RULES; i++) {
		char one[32];

		snprintf(one, sizeof(one), "%s10.0.0.%d:80", i ? "," : "", i);
		strcat(list, one);
	}
	assert_int_equal(load_one("SOCKPOOL_DEST", list), 0);
	assert_int_equal(cfg.ndest, CONFIG_MAX_RULES);
	strcat(list, ",10.0.1.1:80");
	assert_rejected(load_one("SOCKPOOL_DEST", list), "SOCKPOOL_DEST");

	list[0] = '\0';
	for (int i = 0; i < CONFIG_MAX_RULES / 2; i++)
		strcat(list, i ? ",localhost:80" : "localhost:80");
	assert_int_equal(load_one("SOCKPOOL_EXCLUDE", list), 0);
	strcat(list, ",localhost:80");
	assert_rejected(load_one("SOCKPOOL_EXCLUDE", list), "SOCKPOOL_EXCLUDE");
}

/* An empty value is a mistake like any other, not a quiet "*" (for DEST)
 * or "none" (for EXCLUDE); the message says how to get the default. */
static void test_empty_dest_and_exclude_are_errors_that_say_so(void **state)
{
	static const char *const vars[] = { "SOCKPOOL_DEST", "SOCKPOOL_EXCLUDE" };

	(void)state;
	for (size_t v = 0; v < 2; v++) {
		assert_rejected(load_one(vars[v], ""), vars[v]);
		assert_non_null(strstr(err, "none empty"));
		assert_non_null(strstr(err, "unset"));
	}
}

static void test_dest_and_exclude_combine(void **state)
{
	static const struct { const char *key; bool allowed; } cases[] = {
		{ "127.0.0.1:80", true }, { "127.0.0.2:9000", true },
		{ "127.0.0.1:9000", false }, { "[::1]:9000", false }, { "[::1]:80", true },
		{ "10.0.0.1:80", false },
	};

	(void)state;
	env_set("SOCKPOOL_DEST", "localhost:*");
	env_set("SOCKPOOL_EXCLUDE", "127.0.0.1:9000, [::1]:9000");
	assert_int_equal(load(), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dest_key key = key_of(cases[i].key);

		if (config_dest_allowed(&cfg, &key) != cases[i].allowed)
			fail_msg("%s: wrong verdict", cases[i].key);
	}
}

/* A dual-stack program (Java, and any AF_INET6 socket with IPV6_V6ONLY
 * off) reaches IPv4 servers at ::ffff:a.b.c.d.  An IPv4 pattern names the
 * server, whichever family of socket the program used to reach it. */
static void test_ipv4_patterns_match_v4_mapped_ipv6_keys(void **state)
{
	struct dest_key mapped = key_of("[::ffff:10.0.0.5]:80");
	struct dest_key other = key_of("[::ffff:10.0.0.6]:80");

	(void)state;
	assert_int_equal(load_one("SOCKPOOL_EXCLUDE", "10.0.0.5:80"), 0);
	assert_false(config_dest_allowed(&cfg, &mapped));
	assert_true(config_dest_allowed(&cfg, &other));
	assert_int_equal(load_one("SOCKPOOL_DEST", "10.0.0.0/24:80"), 0);
	assert_true(config_dest_allowed(&cfg, &mapped));
	mapped.port = 81;
	assert_false(config_dest_allowed(&cfg, &mapped));
}

/* ---- dest.h ---- */

static void assert_key_bytes(const struct dest_key *got, const struct dest_key *want)
{
	assert_memory_equal(got, want, sizeof(*want));	/* unused bytes zero too */
}

static void test_dest_key_from_ipv4_sockaddr(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(8080) };
	struct dest_key key, want = { .family = AF_INET, .port = 8080 };

	(void)state;
	in.sin_addr.s_addr = htonl(0x7f000001);
	memcpy(want.addr, "\x7f\x00\x00\x01", 4);
	memset(&key, 0xa5, sizeof(key));
	assert_int_equal(dest_key_from_sockaddr(&key, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_key_bytes(&key, &want);
}

static void test_dest_key_from_ipv6_sockaddr_keeps_scope(void **state)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(443),
				    .sin6_scope_id = 7, .sin6_flowinfo = 0x12345 };
	struct dest_key key, want = { .family = AF_INET6, .port = 443, .scope_id = 7 };

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr), 1);
	memcpy(want.addr, &in6.sin6_addr, 16);
	memset(&key, 0xa5, sizeof(key));
	assert_int_equal(dest_key_from_sockaddr(&key, (struct sockaddr *)&in6, sizeof(in6)), 0);
	assert_key_bytes(&key, &want);
}

static void test_dest_key_refuses_unix_short_and_null_addresses(void **state)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/tmp/s" };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	struct dest_key key, zero = { 0 };

	(void)state;
	assert_int_equal(dest_key_from_sockaddr(&key, (struct sockaddr *)&un, sizeof(un)), -1);
	assert_key_bytes(&key, &zero);
	assert_int_equal(dest_key_from_sockaddr(&key, (struct sockaddr *)&in, sizeof(in) - 1), -1);
	assert_int_equal(dest_key_from_sockaddr(&key, (struct sockaddr *)&in6, sizeof(in6) - 1), -1);
	assert_int_equal(dest_key_from_sockaddr(&key, NULL, 0), -1);
}

static void test_dest_key_format(void **state)
{
	static const struct { const char *key, *text; } cases[] = {
		{ "127.0.0.1:8080", "127.0.0.1:8080" },
		{ "[::1]:8080", "[::1]:8080" },
		{ "[fe80::1%2]:80", "[fe80::1%2]:80" },
		{ "[::ffff:10.0.0.5]:80", "[::ffff:10.0.0.5]:80" },
		{ "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535",
		  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535" },
	};
	char buf[DEST_KEY_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dest_key key = key_of(cases[i].key);

		dest_key_format(&key, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

static void test_dest_key_format_truncates_and_handles_odd_keys(void **state)
{
	struct dest_key key = key_of("127.0.0.1:8080"), unknown = { .port = 80 };
	char buf[8];

	(void)state;
	dest_key_format(&key, buf, 5);
	assert_string_equal(buf, "127.");
	memset(buf, 'x', sizeof(buf));
	dest_key_format(&key, buf, 0);
	assert_int_equal(buf[0], 'x');
	dest_key_format(&unknown, buf, sizeof(buf));
	assert_string_equal(buf, "?:80");
}

#define CONFIG_TEST(f) cmocka_unit_test_setup(f, reset_env)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CONFIG_TEST(test_defaults_when_nothing_is_set),
		CONFIG_TEST(test_after_an_error_everything_is_default_and_disabled),
		CONFIG_TEST(test_error_message_fits_a_small_buffer),
		CONFIG_TEST(test_every_integer_variable_accepts_its_whole_range),
		CONFIG_TEST(test_every_integer_variable_rejects_junk),
		CONFIG_TEST(test_backoff_base_above_max_is_rejected),
		CONFIG_TEST(test_backoff_max_below_default_base_names_the_variable_set),
		CONFIG_TEST(test_booleans_accept_yes_and_no_words),
		CONFIG_TEST(test_booleans_reject_junk),
		CONFIG_TEST(test_disable_1_disables_without_error),
		CONFIG_TEST(test_log_levels_are_named_case_insensitively),
		CONFIG_TEST(test_stats_dir_and_log_file_must_be_absolute),
		CONFIG_TEST(test_patterns_match_what_they_say),
		CONFIG_TEST(test_bad_patterns_are_rejected),
		CONFIG_TEST(test_pattern_list_is_limited_to_max_rules),
		CONFIG_TEST(test_empty_dest_and_exclude_are_errors_that_say_so),
		CONFIG_TEST(test_dest_and_exclude_combine),
		CONFIG_TEST(test_ipv4_patterns_match_v4_mapped_ipv6_keys),
		CONFIG_TEST(test_dest_key_from_ipv4_sockaddr),
		CONFIG_TEST(test_dest_key_from_ipv6_sockaddr_keeps_scope),
		CONFIG_TEST(test_dest_key_refuses_unix_short_and_null_addresses),
		CONFIG_TEST(test_dest_key_format),
		CONFIG_TEST(test_dest_key_format_truncates_and_handles_odd_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
