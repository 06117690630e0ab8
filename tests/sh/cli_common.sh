# cli_common.sh - helpers sourced by tests/sh/test_cli_*.sh (not a test itself).
# Needs $HOOKDESK_BIN and $HD_RECEIVER_BIN (tests/run.sh sets both).
set -u
: "${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}"
: "${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to the test receiver}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-cli.XXXXXX")
RX_PID=""
FAILS=0

cleanup() {
    [ -n "$RX_PID" ] && kill "$RX_PID" 2>/dev/null && wait "$RX_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

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
database: $TMP/hookdesk.db
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
# false after SECONDS.
wait_for() {
    limit=$(($(date +%s) + $1))
    shift
    while ! "$@"; do
        [ "$(date +%s)" -ge "$limit" ] && return 1
        sleep 0.05
    done
}
