# cli_common.sh - helpers sourced by tests/sh/test_cli_*.sh (not a test itself).
# Needs $HOOKDESK_BIN and $HD_RECEIVER_BIN (tests/run.sh sets both).
set -u
: "${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}"
: "${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to the test receiver}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-cli.XXXXXX")
RX_PID=""
FAILS=0

# The backend: HD_TEST_BACKEND=pg (tests/run.sh's "name@pg" runs, with
# HD_TEST_PG="host=SOCKETDIR user=USER" naming its test server) puts every
# database of the test in a fresh PostgreSQL database of its own, dropped at
# the end; otherwise they are SQLite files in $TMP.
HD_BACKEND=${HD_TEST_BACKEND:-sqlite}
if [ "$HD_BACKEND" = pg ]; then
    : "${HD_TEST_PG:?HD_TEST_BACKEND=pg needs HD_TEST_PG (host=... user=...)}"
fi

# pg_admin SQL: runs SQL on the test server's maintenance database.
pg_admin() {
    psql "$HD_TEST_PG dbname=postgres" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# pg_db_name NAME: a new empty PostgreSQL database for this test (made
# here, dropped by cleanup), as a libpq keyword string.
pg_db_name() {
    # Lower case: the name is not quoted in SQL.  The pid keeps tests that
    # run at once apart.
    pgname="hd_$$_$(echo "$1" | tr -c 'a-zA-Z0-9_\n' _ | tr 'A-Z' 'a-z')"
    pg_admin "CREATE DATABASE $pgname" >/dev/null ||
        { echo "cannot create the test database $pgname" >&2; return 1; }
    echo "$pgname" >>"$TMP/pg_databases"
    echo "$HD_TEST_PG dbname=$pgname"
}

# db_name NAME: the `database:` value of this test's database NAME on its
# backend: $TMP/NAME.db, or pg_db_name NAME.
db_name() {
    if [ "$HD_BACKEND" = pg ]; then
        pg_db_name "$1"
    else
        echo "$TMP/$1.db"
    fi
}

# db_query SQL [DATABASE]: runs SQL on DATABASE (a db_name value; default
# the test's main database, $HD_DB) with sqlite3 or psql; rows on stdout,
# columns separated by '|' in both.
db_query() {
    if [ "$HD_BACKEND" = pg ]; then
        psql "${2:-$HD_DB}" -XAtq -v ON_ERROR_STOP=1 -c "$1"
    else
        sqlite3 "${2:-$HD_DB}" "$1"
    fi
}

cleanup() {
    [ -n "$RX_PID" ] && kill "$RX_PID" 2>/dev/null && wait "$RX_PID" 2>/dev/null
    if [ -f "$TMP/pg_databases" ]; then
        while read -r pgname; do
            pg_admin "DROP DATABASE IF EXISTS $pgname WITH (FORCE)" >/dev/null 2>&1
        done <"$TMP/pg_databases"
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# The test's main database (write_config's).
HD_DB=$(db_name hookdesk) || exit 1

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# check DESCRIPTION CONDITION...: runs the condition, records a failure.
check() {
    what=$1
    shift
    if "$@"; then :; else fail "$what"; fi
}

# hd ARGS...: runs hookdesk with the test config; stdout in $TMP/out,
# stderr in $TMP/err, exit code in $RC.
hd() {
    "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

expect_rc() {
    want=$1
    shift
    if [ "$RC" -ne "$want" ]; then
        fail "$* : exit $RC, wanted $want; stderr: $(cat "$TMP/err")"
    fi
}

# Starts the receiver on a free port; sets RX_PORT and RX_LOG.
start_receiver() {
    RX_LOG="$TMP/rx.log"
    "$HD_RECEIVER_BIN" --port 0 --log "$RX_LOG" >"$TMP/rx.out" 2>"$TMP/rx.err" &
    RX_PID=$!
    deadline=$(($(date +%s) + 10))
    while :; do
        RX_PORT=$(sed -n 's/^listening on \([0-9][0-9]*\).*/\1/p' "$TMP/rx.out" 2>/dev/null)
        [ -n "$RX_PORT" ] && return 0
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "receiver did not start: $(cat "$TMP/rx.err")" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# write_config [EXTRA_YAML]: a config with a temp database, private targets
# allowed (the receiver is on loopback) and fast retries.
write_config() {
    cat >"$TMP/hookdesk.yaml" <<YAML
database: $HD_DB
delivery:
  retry_interval: 50ms
  max_attempts: 3
  timeout: 5s
network:
  allow_private: true
${1:-}
YAML
}

# count_lines FILE: number of lines (0 when missing).
count_lines() {
    if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
    exit 0
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, polled every 50 ms;
# false after SECONDS.  The clock is read on every 20th poll only (about
# once a second): a `date` per poll cost CPU that the other tests of the run
# wait for.
wait_for() {
    wf_limit=$(($(date +%s) + $1))
    wf_n=0
    shift
    while ! "$@"; do
        wf_n=$((wf_n + 1))
        [ $((wf_n % 20)) -eq 0 ] && [ "$(date +%s)" -ge "$wf_limit" ] && return 1
        sleep 0.05
    done
}
