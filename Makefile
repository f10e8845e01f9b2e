# vigil: `make run` installs what is missing, builds and starts vigild; `make test` runs every test.
# Everything built goes under build/ (build/asan/ for the sanitizer build).

CC      ?= cc
BUILD   ?= build
PY      := /usr/bin/python3
WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP -Icommon -I$(BUILD)/gen
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# make install: PREFIX/bin, PREFIX/share/man/man8 and the systemd units in PREFIX/lib/systemd/system
# (systemd reads /usr/local/lib/systemd/system; a package sets PREFIX=/usr). DESTDIR stages it.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system

SERVER_PKGS := libmicrohttpd jansson sqlite3 gnutls libcurl
AGENT_PKGS  := jansson libnl-3.0 libnl-route-3.0 libcurl gnutls
pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
SERVER_SRC := $(wildcard server/*.c) $(COMMON_SRC)
AGENT_SRC  := $(wildcard agent/*.c) $(COMMON_SRC)
GEN_SRC    := $(BUILD)/gen/embedded.c

SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/embedded.o
AGENT_OBJ  := $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
ASAN_OBJ   := $(SERVER_SRC:%.c=$(BUILD)/asan/obj/%.o) $(BUILD)/asan/obj/gen/embedded.o
ASAN_AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/asan/obj/%.o)

# Files compiled into vigild: the SQL migrations, the OpenAPI spec and the link-relation docs.
EMBED := $(sort $(wildcard schema/*.sql)) $(wildcard api-spec/openapi.yaml) $(sort $(wildcard ui/*))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all setup run test unit-test etcd-test api-test api-test-etcd asan-test ui-test cluster-test lint-spec bench \
	bench-fleet bench-failover clean format install install-test fuzz fuzz-build fuzz-smoke

all: $(BUILD)/vigild $(if $(wildcard agent/main.c),$(BUILD)/vigil-agent)

setup:
	@sh scripts/setup.sh

run: setup
	@$(MAKE) --no-print-directory all
	exec ./$(BUILD)/vigild --listen 127.0.0.1:8080 --db ./vigil.db

$(BUILD)/gen/embedded.c: scripts/embed.sh $(EMBED)
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $(EMBED) > $@.tmp && mv $@.tmp $@

$(BUILD)/vigild: $(SERVER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(call pc_libs,$(SERVER_PKGS)) -lpthread -lm

$(BUILD)/vigil-agent: $(AGENT_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(call pc_libs,$(AGENT_PKGS)) -lm

$(BUILD)/asan/vigild: $(ASAN_OBJ)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(call pc_libs,$(SERVER_PKGS)) -lpthread -lm

$(BUILD)/asan/vigil-agent: $(ASAN_AGENT_OBJ)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(call pc_libs,$(AGENT_PKGS)) -lm

$(BUILD)/obj/server/%.o: server/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pc_cflags,$(SERVER_PKGS)) -c -o $@ $<
$(BUILD)/obj/agent/%.o: agent/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pc_cflags,$(AGENT_PKGS)) -c -o $@ $<
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pc_cflags,$(SERVER_PKGS) $(AGENT_PKGS)) -c -o $@ $<
$(BUILD)/obj/gen/embedded.o: $(BUILD)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver -c -o $@ $<

$(BUILD)/asan/obj/server/%.o: server/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) $(call pc_cflags,$(SERVER_PKGS)) -c -o $@ $<
$(BUILD)/asan/obj/agent/%.o: agent/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) $(call pc_cflags,$(AGENT_PKGS)) -c -o $@ $<
$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) $(call pc_cflags,$(SERVER_PKGS) $(AGENT_PKGS)) -c -o $@ $<
$(BUILD)/asan/obj/gen/embedded.o: $(BUILD)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -Iserver -c -o $@ $<

# Unit tests: each tests/unit/test_X.c links against the objects it names in its first line,
# "// links: server/validate.c common/addr.c", built with the sanitizers.
# They depend on those sources too, so a change to one rebuilds the tests that link it.
links_of = $(shell sed -n '1s|^// links.||p' tests/unit/$(1).c)
.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $$(call links_of,$$*) $(BUILD)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -Iserver -Iagent -Itests/unit $(call pc_cflags,$(SERVER_PKGS) $(AGENT_PKGS) cmocka) \
		-o $@ $< $$(sed -n '1s|^// links:||p' $<) \
		$(call pc_libs,$(SERVER_PKGS) $(AGENT_PKGS) cmocka) -lpthread -lm

# The etcd client against a real three-member etcd (tests/etcd/): the C program links what its first
# line names, like the unit tests; the Python side starts the cluster and runs it phase by phase.
ETCD_TEST_BIN := $(BUILD)/tests/etcd/test_etcd_client
$(BUILD)/tests/etcd/%: tests/etcd/%.c $$(shell sed -n '1s|^// links.||p' tests/etcd/$$*.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -Iserver $(call pc_cflags,$(SERVER_PKGS) cmocka) \
		-o $@ $< $$(sed -n '1s|^// links:||p' $<) \
		$(call pc_libs,$(SERVER_PKGS) cmocka) -lpthread -lm

etcd-test: $(ETCD_TEST_BIN)
	ETCD_TEST_BIN=$(ETCD_TEST_BIN) $(PY) -m pytest -q -s -p no:cacheprovider tests/etcd

# Fuzz harnesses (libFuzzer, clang, ASan+UBSan): each tests/fuzz/fuzz_X.c links the objects its
# first line names, like the unit tests, compiled by clang into build/fuzz/obj/. `make fuzz` runs
# each for FUZZ_SECONDS from its committed corpus (tests/fuzz/corpus/X/), writing what it finds to
# a working copy in build/fuzz/work/X/; FUZZ_MERGE=1 merges the new interesting inputs back into
# the committed corpus. `make fuzz-smoke` (part of `make test`) runs every corpus and then fuzzes
# each for FUZZ_SMOKE_SECONDS. A crash, a sanitizer report or a leak fails either; time never does.
FUZZ_CC	     ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_MERGE   ?= 0
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP -Icommon -I$(BUILD)/gen -Iserver \
	-Iagent -Itests/fuzz $(call pc_cflags,$(SERVER_PKGS) $(AGENT_PKGS))
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
FUZZ_FLAGS   = -dict=tests/fuzz/$(1).dict -artifact_prefix=$(BUILD)/fuzz/crash/$(1)- \
	-print_final_stats=1 -close_fd_mask=3
# Seeds read from outside the project at run time (never copied in): the real keepalived.conf
# files for the keepalived.conf reader and the import.
fuzz_seeds_of = tests/fuzz/corpus/$(1) $$(case $(1) in (fuzz_kaconf|fuzz_import) \
	[ -d ../shared/keepalived-corpus ] && echo ../shared/keepalived-corpus;; esac)
fuzz_links_of = $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(shell sed -n '1s|^// links:||p' tests/fuzz/$(1).c))

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $$(call fuzz_links_of,$$*)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ \
		$(call pc_libs,$(SERVER_PKGS) $(AGENT_PKGS)) -lpthread -lm

.PRECIOUS: $(BUILD)/fuzz/obj/%.o
fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@set -e; for f in $(FUZZ_NAMES); do \
		echo "== $$f: $(FUZZ_SECONDS) s"; mkdir -p $(BUILD)/fuzz/work/$$f $(BUILD)/fuzz/crash; \
		nice -n 19 $(BUILD)/fuzz/$$f $(call FUZZ_FLAGS,$$f) -max_total_time=$(FUZZ_SECONDS) \
			$(BUILD)/fuzz/work/$$f $(call fuzz_seeds_of,$$f); \
		if [ "$(FUZZ_MERGE)" = 1 ]; then nice -n 19 $(BUILD)/fuzz/$$f -merge=1 \
			-close_fd_mask=3 tests/fuzz/corpus/$$f $(BUILD)/fuzz/work/$$f; fi; \
	done

fuzz-smoke: fuzz-build
	@set -e; for f in $(FUZZ_NAMES); do \
		echo "== $$f: corpus, then $(FUZZ_SMOKE_SECONDS) s"; \
		rm -rf $(BUILD)/fuzz/smoke/$$f; mkdir -p $(BUILD)/fuzz/smoke/$$f $(BUILD)/fuzz/crash; \
		if ! nice -n 19 $(BUILD)/fuzz/$$f $(call FUZZ_FLAGS,$$f) \
			-max_total_time=$(FUZZ_SMOKE_SECONDS) $(BUILD)/fuzz/smoke/$$f \
			$(call fuzz_seeds_of,$$f) >$(BUILD)/fuzz/smoke/$$f.log 2>&1; then \
			tail -n 60 $(BUILD)/fuzz/smoke/$$f.log; exit 1; fi; \
		grep -E '^(Done|stat::number_of_executed_units)' $(BUILD)/fuzz/smoke/$$f.log || true; \
	done

unit-test: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

lint-spec: setup
	npx --no-install redocly lint --format=stylish api-spec/openapi.yaml

api-test: $(BUILD)/vigild
	$(PY) -m pytest -q -p no:cacheprovider tests/api

asan-test: $(BUILD)/asan/vigild
	VIGILD=$(BUILD)/asan/vigild $(PY) -m pytest -q -p no:cacheprovider tests/api

# The same API suite on the etcd backend (a three-member etcd for the session, a key prefix per
# vigild), with the ASan build, plus tests/api/test_replicas.py: several vigild on one store.
api-test-etcd: $(BUILD)/asan/vigild
	VIGIL_BACKEND=etcd VIGILD=$(BUILD)/asan/vigild $(PY) -m pytest -q -p no:cacheprovider tests/api

# Browser tests: Debian's chromium driven by playwright-core (node's own test runner).
ui-test: $(BUILD)/vigild setup
	node --test tests/ui/

cluster-test: all
	@if [ -n "$$(ls tests/cluster/test_*.py 2>/dev/null)" ]; then \
		$(PY) -m pytest -q -p no:cacheprovider tests/cluster; fi

test: setup
	@$(MAKE) --no-print-directory all $(BUILD)/asan/vigild
	@$(MAKE) --no-print-directory unit-test
	@$(MAKE) --no-print-directory etcd-test
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory lint-spec
	@$(MAKE) --no-print-directory api-test
	@$(MAKE) --no-print-directory asan-test
	@$(MAKE) --no-print-directory api-test-etcd
	@$(MAKE) --no-print-directory ui-test
	@$(MAKE) --no-print-directory cluster-test
	@$(MAKE) --no-print-directory install-test

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/vigild $(BUILD)/vigil-agent $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/man/vigild.8 docs/man/vigil-agent.8 $(DESTDIR)$(MANDIR)/man8/
	for u in vigild vigil-agent; do \
		sed 's|@BINDIR@|$(BINDIR)|g' dist/systemd/$$u.service.in > $(DESTDIR)$(UNITDIR)/$$u.service && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done

# Installs into a scratch DESTDIR; systemd-analyze verify on the units, man on the pages.
install-test: all
	sh scripts/install-test.sh "$(MAKE)" $(PREFIX)

# Then the SQLite and etcd backends side by side (GET, 304, durable PATCH, push; see the script).
bench: setup all
	sh tests/bench/bench.sh
	sh tests/bench/backends.sh

# N simulated agents against vigild per fleet size (FLEET_SIZES, FLEET_DURATION; see the script),
# then on etcd with three vigild replicas (FLEET_ETCD_SIZES; loading is slower there: one txn each).
FLEET_ETCD_SIZES ?= 250 1000
bench-fleet: setup all
	sh tests/bench/fleet.sh
	FLEET_ETCD=1 FLEET_SIZES="$(FLEET_ETCD_SIZES)" sh tests/bench/fleet.sh

# Sub-second VRRP timers (issue 10): power-off failover and a five-minute CPU-hog soak, with
# real-time on and off, and keepalived at the same timers; needs root (see the script).
bench-failover: all
	sh tests/bench/failover.sh

format:
	clang-format -i server/*.c server/*.h common/*.c common/*.h agent/*.c agent/*.h tests/unit/*.c \
		tests/fuzz/*.c tests/fuzz/*.h tests/etcd/*.c

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
