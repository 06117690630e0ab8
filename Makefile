# hookdesk - terminal console for outgoing webhooks.
#
#   make            build ./hookdesk
#   make run        install missing packages, build, open the console on the demo
#   make test       sanitizer build + every test (unit, integration, console),
#                   3 s of each fuzz harness when clang has libFuzzer
#   make bench      benchmarks (throughput, import, console at scale)
#   make fuzz       each libFuzzer harness of fuzz/ FUZZ_SECONDS (60) seconds (clang)
#   make install    PREFIX=/usr/local DESTDIR=
#
# The first two need nothing else on a fresh Debian machine: missing
# libraries are installed by .ci/deps (apt-get; root or sudo).

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS     = libcurl sqlite3 yaml-0.1 libcrypto jansson ncursesw
TESTPKGS = cmocka libmicrohttpd

# Make sure the libraries (and the tools the tests, the demo and the bench
# use) exist before pkg-config is asked for flags (it would otherwise print
# errors and we would build with wrong flags).
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
TOOLS    = tmux cppcheck sqlite3 curl wrk
DEPS_OK := $(shell pkg-config --exists $(PKGS) $(TESTPKGS) 2>/dev/null && \
                   for t in $(TOOLS); do command -v $$t >/dev/null || exit 1; done && echo yes)
ifneq ($(DEPS_OK),yes)
$(info hookdesk: some libraries or tools are missing; installing them with .ci/deps)
DEPS_RC := $(shell sh .ci/deps >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error .ci/deps failed: install the packages it names and run make again)
endif
endif
endif

WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wcast-qual -Wpointer-arith -Wundef -Wvla -Wnull-dereference
CFLAGS  ?= -O2 -g
CPPFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARN) -MMD -MP \
               $(shell pkg-config --cflags $(PKGS))
LIBS    = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
TESTLIBS = $(shell pkg-config --libs $(TESTPKGS))
TESTCFLAGS = $(shell pkg-config --cflags $(TESTPKGS))
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

CORE_SRC = $(filter-out src/main.c,$(wildcard src/*.c))
UI_SRC   = $(wildcard ui/*.c)
TEST_SRC = $(wildcard tests/test_*.c)
# Helpers shared by the C tests (receiver control, temp dirs).
TESTLIB_SRC = $(filter-out tests/receiver.c $(TEST_SRC),$(wildcard tests/*.c))

REL = build/rel
ASAN = build/asan

REL_CORE = $(CORE_SRC:%.c=$(REL)/%.o)
REL_UI   = $(UI_SRC:%.c=$(REL)/%.o)
ASAN_CORE = $(CORE_SRC:%.c=$(ASAN)/%.o)
ASAN_UI   = $(UI_SRC:%.c=$(ASAN)/%.o)
ASAN_TESTLIB = $(TESTLIB_SRC:%.c=$(ASAN)/%.o)
TEST_BINS = $(TEST_SRC:tests/%.c=$(ASAN)/tests/%)

.SECONDARY:

.PHONY: all run test test-build bench install uninstall clean check-deps lint \
        fuzz fuzz-build fuzz-smoke

all: hookdesk

hookdesk: $(REL_CORE) $(REL_UI) $(REL)/src/main.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(REL)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(ASAN)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(TESTCFLAGS) -Isrc -Itests $(SANFLAGS) -c -o $@ $<

$(ASAN)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Isrc $(SANFLAGS) -c -o $@ $<

# The sanitizer build of the binary, used by the integration and console tests.
$(ASAN)/hookdesk: $(ASAN_CORE) $(ASAN_UI) $(ASAN)/src/main.o
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

# The scriptable loopback test receiver (also the demo's receiver).
$(ASAN)/hd-receiver: $(ASAN)/tests/receiver.o
	$(CC) $(SANFLAGS) -o $@ $^ $(TESTLIBS) -lpthread
$(REL)/hd-receiver: tests/receiver.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(TESTCFLAGS) $(CFLAGS) -o $@ $< $(TESTLIBS) -lpthread

$(ASAN)/tests/test_%: $(ASAN)/tests/test_%.o $(ASAN_TESTLIB) $(ASAN_CORE) $(ASAN_UI)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) $(TESTLIBS)

test-build: $(ASAN)/hookdesk $(ASAN)/hd-receiver $(TEST_BINS)

# cppcheck first: a finding fails the test run like a failing test; then a
# few seconds of each fuzz harness (when clang has libFuzzer): a crash fails it too.
test: lint fuzz-smoke test-build
	@sh tests/run.sh $(ASAN)

# ---- fuzzing: libFuzzer harnesses fuzz/fuzz_*.c over the core, built with
# clang (-fsanitize=fuzzer,address,undefined); see README "Fuzzing".
#   make fuzz                  each harness FUZZ_SECONDS (60) seconds
#   make fuzz FUZZ_NAMES=json  only some
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 2
FUZZ = build/fuzz
FUZZ_NAMES ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SAN = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=undefined
# The core is compiled without -Werror here: gcc's build enforces warnings.
FUZZ_CPPFLAGS = -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc -MMD -MP $(filter-out -Werror,$(WARN)) \
                $(shell pkg-config --cflags $(PKGS))
FUZZ_LIB = $(FUZZ)/libhd.a
FUZZ_LIB_OBJ = $(CORE_SRC:%.c=$(FUZZ)/%.o) $(UI_SRC:%.c=$(FUZZ)/%.o)

$(FUZZ)/fuzz/%.o: fuzz/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) -Werror $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# src/http.c's curl callbacks are static: the harnesses take them from
# curl_easy_setopt, wrapped (fuzz/common.c).
$(FUZZ)/fuzz_%: $(FUZZ)/fuzz/fuzz_%.o $(FUZZ)/fuzz/common.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -Wl,--wrap=curl_easy_setopt -o $@ $^ $(LIBS)

fuzz-build: $(FUZZ_NAMES:%=$(FUZZ)/fuzz_%)

fuzz:
	@sh fuzz/run.sh check "$(FUZZ_CC)" || { echo "fuzz: $(FUZZ_CC) with libFuzzer not found" \
	  "(Debian: apt-get install clang libclang-rt-dev, or sh .ci/deps)"; exit 1; }
	@$(MAKE) --no-print-directory fuzz-build
	@sh fuzz/run.sh run $(FUZZ) $(FUZZ_SECONDS) fuzz $(FUZZ_NAMES)

fuzz-smoke:
	@if sh fuzz/run.sh check "$(FUZZ_CC)"; then \
	  $(MAKE) --no-print-directory fuzz-build && \
	  sh fuzz/run.sh run $(FUZZ) $(FUZZ_TEST_SECONDS) test $(FUZZ_NAMES); \
	else \
	  echo "fuzz: skipped: $(FUZZ_CC) with libFuzzer not found (Debian: apt-get install clang libclang-rt-dev)"; \
	fi

run: hookdesk $(REL)/hd-receiver
	@sh config/demo.sh ./hookdesk $(REL)/hd-receiver

# The floor of any libcurl-based sender, for the bench's hot-path comparison.
$(REL)/hd-floor: bench/floor.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(shell pkg-config --libs libcurl)

# What durable recording alone costs per delivery (no HTTP): the engine's
# committer transactions (record outcomes + claim) on a real database, for
# the bench's hot-path bound.  Linked like the tests, from release objects.
$(REL)/hd-store-only: $(REL)/bench/store_only.o $(REL_CORE) $(REL_UI)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

bench: hookdesk $(REL)/hd-receiver $(REL)/hd-floor $(REL)/hd-store-only
	@sh bench/run.sh ./hookdesk $(REL)/hd-receiver $(REL)/hd-floor $(REL)/hd-store-only

lint:
	@echo "cppcheck src ui"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 -Iinclude -Isrc --suppress=missingIncludeSystem src ui

install: hookdesk
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 hookdesk $(DESTDIR)$(PREFIX)/bin/hookdesk
	install -m 0644 hookdesk.1 $(DESTDIR)$(PREFIX)/share/man/man1/hookdesk.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hookdesk $(DESTDIR)$(PREFIX)/share/man/man1/hookdesk.1

clean:
	rm -rf build hookdesk

-include $(shell find build -name '*.d' 2>/dev/null)
