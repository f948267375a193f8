# sockpool: build, test, demo, install.
#
#   make            build/libsockpool.so, build/sockpool, build/sockpool-stat,
#                   build/sockpool-supervise, build/man/*.1
#   make install    into $(DESTDIR)$(PREFIX): bin/sockpool, bin/sockpool-stat,
#                   lib/sockpool/ (the library, sockpool-supervise),
#                   share/man/man1/
#   make check      every test (unit, then integration against real servers)
#   make demo       the naive client against nginx, without and with sockpool
#   make bench      benchmarks (not part of check)
#   make bench-net  the clients across a 0.2, 2 and 20 ms round trip between
#                   two network namespaces (root; a few minutes; bench/net.sh)
#   make check SANITIZE=1   the same tests with ASan+UBSan in shim and tests
#   make fuzz       the libFuzzer targets (tests/fuzz/) for FUZZ_SECONDS each
#                   [15], in parallel; part of check.  Longer on demand:
#                   make fuzz FUZZ_SECONDS=600
#
# Missing Debian packages are installed by scripts/deps.sh (see there), for
# each task only what it needs: `make` a compiler and two libraries, `make
# check`, `make demo` and `make bench` the servers and tools they run.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build

CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASEFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC $(WARN) -DSOCKPOOL_VERSION='"$(VERSION)"'
HTTP_PARSER_A ?= $(firstword $(wildcard /usr/lib/*/libhttp_parser.a /usr/lib/libhttp_parser.a))

# A sanitized shim needs its sanitizer's runtime loaded before it in
# programs that were not built with one: the launcher of such a build puts
# it first in LD_PRELOAD (SAN_RUNTIME, below).
ifeq ($(SANITIZE),1)
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_RUNTIME := $(shell $(CC) -print-file-name=libasan.so)
endif
ifeq ($(SANITIZE),thread)
SANFLAGS  := -fsanitize=thread
SAN_RUNTIME := $(shell $(CC) -print-file-name=libtsan.so)
endif
ALLCFLAGS := $(BASEFLAGS) $(CFLAGS) $(SANFLAGS)

CORE_SRC  := $(wildcard src/core/*.c)
SHIM_SRC  := $(wildcard src/shim/*.c)
WRITER_SRC:= src/stats/stats_writer.c
# The reader, and the one definition of a dead segment, which the shim's
# writer uses too (it sweeps dead segments away).
READER_SRC:= src/stats/stats_reader.c src/stats/stats_dead.c
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
# vfork.S: the one hook that cannot be written in C (see there).
SHIM_ASM  := $(wildcard src/shim/*.S)
SHIM_OBJ  := $(SHIM_SRC:%.c=$(BUILD)/obj/%.o) $(SHIM_ASM:%.S=$(BUILD)/obj/%.o)
WRITER_OBJ:= $(WRITER_SRC:%.c=$(BUILD)/obj/%.o)
READER_OBJ:= $(READER_SRC:%.c=$(BUILD)/obj/%.o)
STAT_SRC  := $(wildcard src/cli/*.c)
STAT_OBJ  := $(STAT_SRC:%.c=$(BUILD)/obj/%.o)
SUPERVISE_SRC := $(wildcard src/cli/supervise/*.c)
SUPERVISE_OBJ := $(SUPERVISE_SRC:%.c=$(BUILD)/obj/%.o)
BROKER_SRC := $(wildcard src/broker/*.c)
BROKER_OBJ := $(BROKER_SRC:%.c=$(BUILD)/obj/%.o)

EXAMPLES  := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
UNIT_TESTS:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
TEST_CLIENTS := $(patsubst tests/integration/clients/%.c,$(BUILD)/clients/%,$(filter-out %_lib.c,$(wildcard tests/integration/clients/*.c))) \
	$(patsubst tests/integration/clients/%_lib.c,$(BUILD)/clients/%.so,$(wildcard tests/integration/clients/*_lib.c))

# One stamp per task of scripts/deps.sh: build/.deps-build-ok and so on.
# Targets that only need the packages present take the build stamp as an
# order-only prerequisite (after |): a newer deps.sh reruns the check
# without recompiling everything.
DEPS_BUILD := $(BUILD)/.deps-build-ok
DEPS_TEST  := $(BUILD)/.deps-test-ok
DEPS_DEMO  := $(BUILD)/.deps-demo-ok
DEPS_BENCH := $(BUILD)/.deps-bench-ok

.PHONY: all check unit unit-sanitize unit-tsan integration integration-sanitize \
	integration-tsan fuzz demo bench bench-net install clean deps
MAN_PAGES := $(patsubst man/%.in,$(BUILD)/man/%,$(wildcard man/*.1.in))

all: $(BUILD)/libsockpool.so $(BUILD)/sockpool $(BUILD)/sockpool-stat $(BUILD)/sockpool-supervise \
	$(BUILD)/sockpool-broker \
	$(MAN_PAGES) $(EXAMPLES) $(BENCHES)

deps: $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_DEMO) $(DEPS_BENCH)
$(BUILD)/.deps-%-ok: scripts/deps.sh
	@scripts/deps.sh $*
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: %.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.S | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libsockpool.so: $(SHIM_OBJ) $(CORE_OBJ) $(WRITER_OBJ) $(READER_OBJ) src/shim/exports.map
	$(CC) $(ALLCFLAGS) -shared -o $@ $(SHIM_OBJ) $(CORE_OBJ) $(WRITER_OBJ) $(READER_OBJ) \
		-Wl,--version-script=src/shim/exports.map -Wl,--exclude-libs,ALL \
		-Wl,-z,defs -Wl,-z,now $(HTTP_PARSER_A) -ldl -lpthread

$(BUILD)/sockpool: src/cli/sockpool.in Makefile
	@mkdir -p $(@D)
	sed -e 's/@VERSION@/$(VERSION)/g' \
		$(if $(SAN_RUNTIME),-e 's|^preload=$$(preload_with "$$lib")$$|&; preload="$(SAN_RUNTIME):$$preload"|') \
		$< > $@ && chmod 755 $@
	$(if $(SAN_RUNTIME),@grep -q '$(SAN_RUNTIME)' $@ || { echo "$@: cannot add $(SAN_RUNTIME)"; exit 1; })
	$(if $(SAN_RUNTIME),@echo '$(SAN_RUNTIME)' > $(@D)/preload-first)

# sockpool-stat: src/cli/*.c (its modes and outputs), the segment reader,
# and dest.c for formatting addresses.
$(BUILD)/sockpool-stat: $(STAT_OBJ) $(READER_OBJ) $(BUILD)/obj/src/core/dest.o
	$(CC) $(ALLCFLAGS) -o $@ $^

# The man pages, roff with the version filled in.
$(BUILD)/man/%: man/%.in Makefile
	@mkdir -p $(@D)
	sed -e 's/@VERSION@/$(VERSION)/g' $< > $@

# sockpool-supervise: what `sockpool --summary` execs (src/cli/supervise/).
$(BUILD)/sockpool-supervise: $(SUPERVISE_OBJ)
	$(CC) $(ALLCFLAGS) -o $@ $^

# sockpool-broker: the shared pool (src/broker/), with the statistics
# writer and dest.c (keys from peer addresses).
$(BUILD)/sockpool-broker: $(BROKER_OBJ) $(WRITER_OBJ) $(BUILD)/obj/src/core/dest.o
	$(CC) $(ALLCFLAGS) -o $@ $^ -lpthread

$(BUILD)/examples/%: examples/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< -lpthread

# The hand-off bench speaks the broker's protocol: dest.c makes its keys.
$(BUILD)/bench/broker_handoff: bench/broker_handoff.c $(BUILD)/obj/src/core/dest.o | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $^

$(BUILD)/bench/%: bench/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< -lpthread

# Small C programs the integration tests run (in $(BUILD)/clients/), and
# libraries they preload (*_lib.c).
$(BUILD)/clients/%: tests/integration/clients/%.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< -lpthread

$(BUILD)/clients/%.so: tests/integration/clients/%_lib.c | $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -shared -o $@ $<

# Unit tests link the engine directly: no LD_PRELOAD, no hooks.
$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJ) $(WRITER_OBJ) $(READER_OBJ) $(wildcard tests/unit/*.h) | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< $(CORE_OBJ) $(WRITER_OBJ) $(READER_OBJ) \
		$(HTTP_PARSER_A) -lcmocka -lpthread

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

integration: all $(TEST_CLIENTS) $(DEPS_TEST)
	@BUILD=$(abspath $(BUILD)) tests/integration/run.sh

# The unit tests again, with AddressSanitizer and UBSan in engine and tests.
unit-sanitize:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/sanitize SANITIZE=1 unit

# The threaded unit tests under ThreadSanitizer.
unit-tsan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan SANITIZE=thread $(BUILD)/tsan/tests/test_threads
	$(BUILD)/tsan/tests/test_threads

# The integration tests again with the shim (and our programs) built with
# ASan+UBSan.  Left out: test_launcher checks LD_PRELOAD word for word,
# which the sanitizer runtime changes; curl hangs with the ASan runtime
# preloaded even without sockpool, which rules out the tests that run it
# (passthrough_protocols, soak, share_*; share_clients runs python
# processes by the dozen, minutes under ASan).
SAN_ENV := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
integration-sanitize:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/sanitize SANITIZE=1 all \
		$(TEST_CLIENTS:$(BUILD)/%=$(BUILD)/sanitize/%)
	@$(SAN_ENV) EXCLUDE="launcher soak passthrough_protocols share_shell_loop share_failures share_clients" BUILD=$(abspath $(BUILD))/sanitize tests/integration/run.sh

# The threaded integration tests with the shim built with ThreadSanitizer.
TSAN_TESTS := pool_naive_client retry_resets robust_threads_signals
integration-tsan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan SANITIZE=thread all \
		$(TEST_CLIENTS:$(BUILD)/%=$(BUILD)/tsan/%)
	@TSAN_OPTIONS=halt_on_error=1 BUILD=$(abspath $(BUILD))/tsan \
		tests/integration/run.sh $(TSAN_TESTS)

# libFuzzer targets, built with clang (the top of each tests/fuzz/fuzz_*.c
# says what it checks).  Each runs FUZZ_SECONDS from a corpus seeded by
# make_seeds (a valid segment, truncations, damaged headers; sample
# /proc/net/tcp text), kept in $(FUZZ_DIR)/corpus so that later runs go
# on from what earlier ones found.  A crash leaves its input in
# $(FUZZ_DIR)/artifacts and fails the target.
FUZZ_SECONDS ?= 15
FUZZ_CC   ?= clang
FUZZ_DIR  := $(BUILD)/fuzz
FUZZFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-DSOCKPOOL_VERSION='"$(VERSION)"'
# The reader and the outputs it feeds, without main() and the modes.
FUZZ_LIB_SRC := src/stats/stats_reader.c src/core/dest.c \
	$(filter-out src/cli/sockpool_stat.c src/cli/stat_live.c src/cli/stat_gc.c \
		src/cli/stat_summary.c,$(STAT_SRC))
FUZZ_TARGETS := $(FUZZ_DIR)/fuzz_segment $(FUZZ_DIR)/fuzz_tcp_states $(FUZZ_DIR)/fuzz_http1

# The HTTP tracker alone, with http-parser.
$(FUZZ_DIR)/fuzz_http1: tests/fuzz/fuzz_http1.c src/core/http1.c src/core/http1_fast.c src/core/http1*.h | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZFLAGS) -o $@ $< src/core/http1.c src/core/http1_fast.c -lhttp_parser

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_SRC) $(wildcard src/cli/*.h src/stats/*.h) | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZFLAGS) -o $@ $< $(FUZZ_LIB_SRC)

$(FUZZ_DIR)/make_seeds: tests/fuzz/make_seeds.c src/stats/stats_layout.h | $(DEPS_TEST)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $<

fuzz: $(FUZZ_TARGETS) $(FUZZ_DIR)/make_seeds
	@rm -rf $(FUZZ_DIR)/seeds && $(FUZZ_DIR)/make_seeds $(FUZZ_DIR)/seeds
	@mkdir -p $(FUZZ_DIR)/artifacts
	@set -e; pids=; for t in $(notdir $(FUZZ_TARGETS)); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t; \
		$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
			$(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/seeds/$$t \
			> $(FUZZ_DIR)/$$t.log 2>&1 & pids="$$pids $$!"; \
	done; failed=0; set -- $(notdir $(FUZZ_TARGETS)); for p in $$pids; do \
		if wait $$p; then echo "== $$1: $$(grep -m1 '^Done' $(FUZZ_DIR)/$$1.log)"; \
		else echo "== $$1 FAILED:"; tail -n 40 $(FUZZ_DIR)/$$1.log; failed=1; fi; \
		shift; \
	done; exit $$failed

check: all unit unit-sanitize unit-tsan integration integration-sanitize integration-tsan fuzz

demo: all $(DEPS_DEMO)
	@BUILD=$(abspath $(BUILD)) scripts/demo.sh

bench: all $(DEPS_BENCH)
	@BUILD=$(abspath $(BUILD)) bench/run.sh
	@BUILD=$(abspath $(BUILD)) bench/per_request.sh
	@BUILD=$(abspath $(BUILD)) bench/share.sh

bench-net: all $(DEPS_BENCH)
	@BUILD=$(abspath $(BUILD)) bench/net.sh

# The launcher finds the library and sockpool-supervise in ../lib/sockpool
# from its own directory, so the layout under PREFIX must stay as it is.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/sockpool \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/sockpool $(BUILD)/sockpool-stat $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libsockpool.so $(DESTDIR)$(PREFIX)/lib/sockpool/
	install -m 755 $(BUILD)/sockpool-supervise $(BUILD)/sockpool-broker $(DESTDIR)$(PREFIX)/lib/sockpool/
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
