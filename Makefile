# sockpool: build, test, demo, install.
#
#   make            build/libsockpool.so, build/sockpool, build/sockpool-stat
#   make check      every test (unit, then integration against real servers)
#   make demo       the naive client against nginx, without and with sockpool
#   make bench      benchmarks (not part of check)
#   make check SANITIZE=1   the same tests with ASan+UBSan in shim and tests
#
# Missing Debian packages are installed by scripts/deps.sh (see there).

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build

CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASEFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC $(WARN) -DSOCKPOOL_VERSION='"$(VERSION)"'
HTTP_PARSER_A ?= $(firstword $(wildcard /usr/lib/*/libhttp_parser.a /usr/lib/libhttp_parser.a))

ifeq ($(SANITIZE),1)
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifeq ($(SANITIZE),thread)
SANFLAGS  := -fsanitize=thread
endif
ALLCFLAGS := $(BASEFLAGS) $(CFLAGS) $(SANFLAGS)

CORE_SRC  := $(wildcard src/core/*.c)
SHIM_SRC  := $(wildcard src/shim/*.c)
WRITER_SRC:= src/stats/stats_writer.c
READER_SRC:= src/stats/stats_reader.c
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
SHIM_OBJ  := $(SHIM_SRC:%.c=$(BUILD)/obj/%.o)
WRITER_OBJ:= $(WRITER_SRC:%.c=$(BUILD)/obj/%.o)
READER_OBJ:= $(READER_SRC:%.c=$(BUILD)/obj/%.o)

EXAMPLES  := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
UNIT_TESTS:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
TEST_CLIENTS := $(patsubst tests/integration/clients/%.c,$(BUILD)/clients/%,$(wildcard tests/integration/clients/*.c))

DEPS_STAMP := $(BUILD)/.deps-ok

.PHONY: all check unit unit-sanitize unit-tsan integration demo bench install clean deps
all: $(BUILD)/libsockpool.so $(BUILD)/sockpool $(BUILD)/sockpool-stat $(EXAMPLES) $(BENCHES)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@scripts/deps.sh
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: %.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/libsockpool.so: $(SHIM_OBJ) $(CORE_OBJ) $(WRITER_OBJ) src/shim/exports.map
	$(CC) $(ALLCFLAGS) -shared -o $@ $(SHIM_OBJ) $(CORE_OBJ) $(WRITER_OBJ) \
		-Wl,--version-script=src/shim/exports.map -Wl,--exclude-libs,ALL \
		-Wl,-z,defs -Wl,-z,now $(HTTP_PARSER_A) -ldl -lpthread

$(BUILD)/sockpool: src/cli/sockpool.in Makefile
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/g' $< > $@ && chmod 755 $@

$(BUILD)/sockpool-stat: src/cli/sockpool_stat.c $(READER_OBJ) $(BUILD)/obj/src/core/dest.o
	$(CC) $(ALLCFLAGS) -o $@ $^

$(BUILD)/examples/%: examples/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< -lpthread

$(BUILD)/bench/%: bench/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< -lpthread

# Small C programs the integration tests run (in $(BUILD)/clients/).
$(BUILD)/clients/%: tests/integration/clients/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< -lpthread

# Unit tests link the engine directly: no LD_PRELOAD, no hooks.
$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJ) $(WRITER_OBJ) $(READER_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< $(CORE_OBJ) $(WRITER_OBJ) $(READER_OBJ) \
		$(HTTP_PARSER_A) -lcmocka -lpthread

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

integration: all $(TEST_CLIENTS)
	@BUILD=$(abspath $(BUILD)) tests/integration/run.sh

# The unit tests again, with AddressSanitizer and UBSan in engine and tests.
unit-sanitize:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/sanitize SANITIZE=1 unit

# The threaded unit tests under ThreadSanitizer.
unit-tsan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan SANITIZE=thread $(BUILD)/tsan/tests/test_threads
	$(BUILD)/tsan/tests/test_threads

check: all unit unit-sanitize unit-tsan integration

demo: all
	@BUILD=$(abspath $(BUILD)) scripts/demo.sh

bench: all
	@BUILD=$(abspath $(BUILD)) bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/sockpool
	install -m 755 $(BUILD)/sockpool $(BUILD)/sockpool-stat $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libsockpool.so $(DESTDIR)$(PREFIX)/lib/sockpool/

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
