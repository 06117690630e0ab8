#!/bin/sh
# Runs every test: the cmocka binaries (unit and integration) built into
# $1/tests, then the shell tests in tests/sh (real binary, tmux console).
# TEST_JOBS (default 3) tests run at a time: most of them wait on a
# receiver, a terminal or a timer rather than on a core, and every test
# keeps to its own temporary directory, port, tmux server and database.
# The longest start first (DURATIONS below), so that the run ends together.
# Prints a PASS/FAIL line per test as it ends, then one summary line
# "N passed, N failed", and exits non-zero on a failure.
set -u
BUILD=${1:-build/asan}
JOBS=${TEST_JOBS:-3}
export HOOKDESK_BIN="$PWD/$BUILD/hookdesk"
export HD_RECEIVER_BIN="$PWD/$BUILD/hd-receiver"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-tests.XXXXXX")

# The tests that run a second time on PostgreSQL (HD_TEST_BACKEND=pg), as
# "name@pg": one throwaway server (tests/pg_server.sh) for the whole run,
# each test making and dropping its own databases on it.  Without the
# server binaries they are reported as skipped, not passed.
# test_cli_export is here again (sites out and back in through the
# PostgreSQL store: a few CPU seconds).  Not here, for make test's time
# (each passes on PostgreSQL; make test is CPU-bound on two cores, and these
# cost 25, 12 and 8 CPU seconds under ASan): test_cli_sites (the sites'
# store functions are test_store's, on both backends), test_cli_secrets (how
# secrets are stored is test_store's test_site_secret_headers_stored, on
# both backends; the rest is SQLite's file modes) and test_cli_auth (signing
# does not touch the store).  Not a PostgreSQL test at all: test_cli_limits
# (its database is a SQLite file whatever the backend, its faults SQLite
# triggers).  Run them with PG_TESTS="test_cli_sites test_cli_secrets
# test_cli_auth" sh tests/run.sh when you change them.
PG_TESTS=${PG_TESTS-"test_store test_claims_race test_engine test_isolation test_cli_basic
test_cli_resend test_cli_serve test_cli_import test_serve_two test_serve_crash
test_serve_isolation test_console_logs test_console_search test_cli_export"}
# The server's directory is not under $LOGDIR (mode 0700): as root the
# server runs as `postgres`, which must reach its data and socket; 0711
# lets it pass without listing.
PG_STARTED=""
PG_HOME=""
if [ -n "$PG_TESTS" ]; then
    PG_HOME=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-pg.XXXXXX") && chmod 711 "$PG_HOME"
    if pg_env=$(sh tests/pg_server.sh start "$PG_HOME/pg"); then
        eval "$pg_env"
        export HD_TEST_PG="host=$PG_SOCKET user=$PG_USER"
        PG_STARTED=1
    else
        echo "SKIP the PostgreSQL runs ($PG_TESTS): no test server"
        PG_TESTS=""
    fi
fi
stop_pg() {
    [ -n "$PG_STARTED" ] && sh tests/pg_server.sh stop "$PG_HOME/pg"
    [ -n "$PG_HOME" ] && rm -rf "$PG_HOME"
    PG_STARTED=""
    PG_HOME=""
}
trap stop_pg EXIT
trap 'stop_pg; exit 130' INT TERM

# The tests, as "name command..." lines, longest first (longest processing
# time first: the short ones fill in at the end, so that the jobs end
# together rather than one long test running alone at the end).  DURATIONS
# are about the seconds each took on two cores with three jobs (only their
# order counts; the run prints each test's time: move a test whose time is
# far off); a shell test not named here counts as 8 s (a console test), a
# C test as 3 s.
DURATIONS="test_cli_sites:60 test_scale:60 test_cli_limits:45 test_console_form:40
test_cli_sites@pg:55 test_cli_secrets:35 test_cli_secrets@pg:35 test_isolation@pg:35
test_cli_basic@pg:33 test_store@pg:32 test_isolation:30 test_cli_basic:28
test_serve_faults:27 test_cli_migrate:26 test_engine@pg:25 test_cli_import@pg:22
test_pg_workers:21 test_cli_auth:17 test_cli_auth@pg:17 test_engine:17 test_config:16
test_console_sites:16 test_console_logs@pg:15 test_cli_import:14 test_console_auth:14
test_cli_serve@pg:14 test_store:12 test_console_consistency:12 test_console_logs:12
test_cli_resend@pg:11 test_cli_serve:11 test_serve_crash@pg:10 test_serve_isolation@pg:10
test_cli_resend:10 test_claims_race@pg:9 test_cli_export@pg:9 test_console_faults:9
test_console_isolation:9 test_auth_deliver:9 test_cli_export:8 test_console_search@pg:10
test_console_search:8 test_console_busy:12"
{
    for t in "$BUILD"/tests/test_*; do
        case "$t" in *.o|*.d) continue ;; esac
        [ -x "$t" ] || continue
        echo "$(basename "$t") $t"
    done
    for t in tests/sh/test_*.sh; do
        [ -f "$t" ] || continue
        echo "$(basename "$t" .sh) sh $t"
    done
    for name in $PG_TESTS; do
        if [ -x "$BUILD/tests/$name" ]; then
            echo "$name@pg env HD_TEST_BACKEND=pg $BUILD/tests/$name"
        elif [ -f "tests/sh/$name.sh" ]; then
            echo "$name@pg env HD_TEST_BACKEND=pg sh tests/sh/$name.sh"
        fi
    done
} | awk -v d="$DURATIONS" 'BEGIN { n = split(d, l, /[ \n]+/)
                                   for (i = 1; i <= n; i++) { split(l[i], kv, ":"); secs[kv[1]] = kv[2] } }
        { print (($1 in secs) ? secs[$1] : ($2 == "sh" || $4 == "sh") ? 8 : 3), $0 }' | sort -rn -s -k1,1 | cut -d' ' -f2- \
    >"$LOGDIR/list"

# One test: its log, a .pass or .fail mark, and its line on stdout.
cat >"$LOGDIR/one.sh" <<'EOF'
logdir=$1
# shellcheck disable=SC2086
set -- $2   # "name command args" (paths of this tree: no blanks)
name=$1
shift
start=$(date +%s)
if "$@" >"$logdir/$name.log" 2>&1; then
    touch "$logdir/$name.pass"
    echo "PASS $name ($(( $(date +%s) - start ))s)"
else
    touch "$logdir/$name.fail"
    { echo "FAIL $name ($(( $(date +%s) - start ))s) -- log follows"
      tail -n 60 "$logdir/$name.log" | sed 's/^/    /'; } >"$logdir/$name.report"
    cat "$logdir/$name.report"
fi
EOF
tr '\n' '\0' <"$LOGDIR/list" | xargs -0 -P "$JOBS" -I{} sh "$LOGDIR/one.sh" "$LOGDIR" {}

pass=$(find "$LOGDIR" -name '*.pass' | wc -l)
fail=$(find "$LOGDIR" -name '*.fail' | wc -l)
echo
[ "$fail" -gt 0 ] && echo "failed: $(find "$LOGDIR" -name '*.fail' -exec basename {} .fail \; | sort | tr '\n' ' ')"
echo "logs: $LOGDIR"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
