# hookdesk - terminal console for outgoing webhooks.
#
#   make            build ./hookdesk (needs only the runtime libraries'
#                   -dev packages; installs nothing)
#   make run        install missing packages, build, open the console on the demo
#   make test       sanitizer build + every test (unit, integration, console),
#                   1 s of each fuzz harness when clang has libFuzzer
#   make bench      benchmarks (throughput, import, console at scale)
#   make fuzz       each libFuzzer harness of fuzz/ FUZZ_SECONDS (60) seconds (clang)
#   make install    PREFIX=/usr/local DESTDIR=
#   make WERROR=0   warnings stay warnings (packagers, newer compilers)
#
# run, test, bench and fuzz need nothing else on a fresh Debian machine:
# missing packages are installed by .ci/deps (apt-get; root or sudo).
#
# Layers (each a static library; see README "Layout"):
#   src/*.c     the core: libhdcore.a, links without curses
#   src/cli/    the command line, a front-end (libhdcli.a)
#   ui/         the console, a front-end (libhdui.a, ncursesw)
#   src/main.c  chooses between them

# Compile on every core unless told otherwise (make -j1): a build from
# scratch takes half the time on two cores, which keeps make test within its
# five minutes.
# (Not in a sub-make: it shares its parent's job slots, rather than starting
# a second set of them.)
ifeq ($(filter -j% --jobs%,$(MAKEFLAGS)),)
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
endif

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
WERROR  ?= 1
CORE_PKGS = libcurl sqlite3 yaml-0.1 libcrypto jansson libpq
UI_PKGS   = ncursesw
PKGS      = $(CORE_PKGS) $(UI_PKGS)
TESTPKGS  = cmocka libmicrohttpd libpq

# The goals that may install what they need (.ci/deps); a plain `make`
# only checks that the runtime libraries are there and says which are not.
INSTALLING_GOALS = run test test-build bench fuzz fuzz-smoke lint
ifeq ($(filter clean distclean uninstall,$(MAKECMDGOALS)),)
ifneq ($(filter $(INSTALLING_GOALS),$(MAKECMDGOALS)),)
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
else
MISSING := $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),,$(p)))
ifneq ($(strip $(MISSING)),)
$(error missing libraries (pkg-config): $(strip $(MISSING)); on Debian `sh .ci/deps` installs them, or `make run` does it for you)
endif
endif
endif

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wcast-qual -Wpointer-arith -Wundef -Wvla -Wnull-dereference
ifneq ($(WERROR),0)
WARN += -Werror
endif
CFLAGS  ?= -O2 -g
CPPFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARN) -MMD -MP \
               $(shell pkg-config --cflags $(PKGS))
CORE_LIBS = $(shell pkg-config --libs $(CORE_PKGS)) -lpthread -lm
LIBS      = $(shell pkg-config --libs $(UI_PKGS)) $(CORE_LIBS)
TESTLIBS = $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)
TESTCFLAGS = $(shell pkg-config --cflags $(TESTPKGS) 2>/dev/null)
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

CORE_SRC = $(filter-out src/main.c,$(wildcard src/*.c))
CLI_SRC  = $(wildcard src/cli/*.c)
UI_SRC   = $(wildcard ui/*.c)
TEST_SRC = $(wildcard tests/test_*.c)
# Helpers shared by the C tests (receiver control, temp dirs).
TESTLIB_SRC = $(filter-out tests/receiver.c $(TEST_SRC),$(wildcard tests/*.c))

REL = build/rel
ASAN = build/asan

# Per-layer include paths: the core sees include/ only (and its own
# private headers in src/); each front-end sees include/ and itself.
INC_src = -Isrc
INC_cli = -Isrc/cli
INC_ui  = -Iui
INC_main = -Isrc -Iui

REL_CORE = $(CORE_SRC:%.c=$(REL)/%.o)
REL_CLI  = $(CLI_SRC:%.c=$(REL)/%.o)
REL_UI   = $(UI_SRC:%.c=$(REL)/%.o)
ASAN_CORE = $(CORE_SRC:%.c=$(ASAN)/%.o)
ASAN_CLI  = $(CLI_SRC:%.c=$(ASAN)/%.o)
ASAN_UI   = $(UI_SRC:%.c=$(ASAN)/%.o)
ASAN_TESTLIB = $(TESTLIB_SRC:%.c=$(ASAN)/%.o)
TEST_BINS = $(TEST_SRC:tests/%.c=$(ASAN)/tests/%)

.SECONDARY:

.PHONY: all run test test-build bench install uninstall clean check-deps lint \
        fuzz fuzz-build fuzz-smoke

all: hookdesk

# The layers as archives: a test or tool links only the ones it uses, and
# the linker proves the core needs neither front-end (libhdcore.a has no
# curses symbol to resolve).
$(REL)/libhdcore.a: $(REL_CORE)
$(REL)/libhdcli.a: $(REL_CLI)
$(REL)/libhdui.a: $(REL_UI)
$(ASAN)/libhdcore.a: $(ASAN_CORE)
$(ASAN)/libhdcli.a: $(ASAN_CLI)
$(ASAN)/libhdui.a: $(ASAN_UI)
%.a:
	@rm -f $@
	ar rcs $@ $^

hookdesk: $(REL)/src/main.o $(REL)/libhdcli.a $(REL)/libhdui.a $(REL)/libhdcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

layer_inc = $(if $(filter src/cli/%,$<),$(INC_cli),$(if $(filter ui/%,$<),$(INC_ui),$(if $(filter src/main.c,$<),$(INC_main),$(INC_src))))

$(REL)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(layer_inc) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(ASAN)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(TESTCFLAGS) -Isrc -Isrc/cli -Iui -Itests $(SANFLAGS) -c -o $@ $<

$(ASAN)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(layer_inc) $(SANFLAGS) -c -o $@ $<

# The sanitizer build of the binary, used by the integration and console tests.
$(ASAN)/hookdesk: $(ASAN)/src/main.o $(ASAN)/libhdcli.a $(ASAN)/libhdui.a $(ASAN)/libhdcore.a
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

# The scriptable loopback test receiver (also the demo's receiver).
$(ASAN)/hd-receiver: $(ASAN)/tests/receiver.o
	$(CC) $(SANFLAGS) -o $@ $^ $(TESTLIBS) -lpthread
$(REL)/hd-receiver: tests/receiver.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(TESTCFLAGS) $(CFLAGS) -o $@ $< $(TESTLIBS) -lpthread

# Core tests link the core only (no curses); test_ui_* add the console,
# test_cli_* the command line.
$(ASAN)/tests/test_ui_%: $(ASAN)/tests/test_ui_%.o $(ASAN_TESTLIB) $(ASAN)/libhdui.a $(ASAN)/libhdcore.a
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) $(TESTLIBS)
$(ASAN)/tests/test_cli_%: $(ASAN)/tests/test_cli_%.o $(ASAN_TESTLIB) $(ASAN)/libhdcli.a $(ASAN)/libhdcore.a
	$(CC) $(SANFLAGS) -o $@ $^ $(CORE_LIBS) $(TESTLIBS)
$(ASAN)/tests/test_%: $(ASAN)/tests/test_%.o $(ASAN_TESTLIB) $(ASAN)/libhdcore.a
	$(CC) $(SANFLAGS) -o $@ $^ $(CORE_LIBS) $(TESTLIBS)

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
FUZZ_TEST_SECONDS ?= 1
FUZZ = build/fuzz
FUZZ_NAMES ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SAN = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=undefined
# The core is compiled without -Werror here: gcc's build enforces warnings.
FUZZ_CPPFLAGS = -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc -Isrc/cli -MMD -MP $(filter-out -Werror,$(WARN)) \
                $(shell pkg-config --cflags $(PKGS))
FUZZ_LIB = $(FUZZ)/libhd.a
# Only the core files that the harnesses link are built with clang: the
# other two thirds of the tree (store, engine, command line) would cost
# make test half a minute of compiling for nothing.  A harness that needs
# one more file fails to link, naming the symbol: add that file here.
FUZZ_LIB_SRC = $(addprefix src/,auth_aws.c auth_extra.c auth_fields.c auth_jwt.c \
               auth_kinds.c auth_oauth2.c auth_simple.c config.c duration.c error.c \
               http.c http_request.c json.c json_scan.c netguard.c request.c retry.c \
               sanitize.c sign.c site.c site_rules.c util.c)
FUZZ_LIB_OBJ = $(FUZZ_LIB_SRC:%.c=$(FUZZ)/%.o)

$(FUZZ)/fuzz/%.o: fuzz/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(if $(filter 0,$(WERROR)),,-Werror) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# src/http.c's curl callbacks are static: the harnesses take them from
# curl_easy_setopt, wrapped (fuzz/common.c).
$(FUZZ)/fuzz_%: $(FUZZ)/fuzz/fuzz_%.o $(FUZZ)/fuzz/common.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -Wl,--wrap=curl_easy_setopt -o $@ $^ $(CORE_LIBS)

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
$(REL)/hd-store-only: $(REL)/bench/store_only.o $(REL)/libhdcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

bench: hookdesk $(REL)/hd-receiver $(REL)/hd-floor $(REL)/hd-store-only
	@sh bench/run.sh ./hookdesk $(REL)/hd-receiver $(REL)/hd-floor $(REL)/hd-store-only
	@sh bench/pg.sh ./hookdesk $(REL)/hd-receiver

lint:
	@echo "cppcheck src ui"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 -Iinclude -Isrc -Isrc/cli -Iui --suppress=missingIncludeSystem src ui

install: hookdesk
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 hookdesk $(DESTDIR)$(PREFIX)/bin/hookdesk
	install -m 0644 hookdesk.1 $(DESTDIR)$(PREFIX)/share/man/man1/hookdesk.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hookdesk $(DESTDIR)$(PREFIX)/share/man/man1/hookdesk.1

clean:
	rm -rf build hookdesk

-include $(shell find build -name '*.d' 2>/dev/null)
