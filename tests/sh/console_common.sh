# console_common.sh - sourced by tests/sh/test_console_*.sh: a real receiver
# on a free port, a test configuration, the console started in tmux at 80x24,
# and polling helpers that print the screen when a check fails.
# The sourcing script sets HD, RECV and its locale first, and may set
# CONSOLE_DELIVERY_EXTRA / CONSOLE_SITES_EXTRA: YAML lines added to the
# configuration's delivery: block / sites: list (indented as there),
# CONSOLE_DB: the database file (default $W/t.db), and
# CONSOLE_CLEANUP_EXTRA: shell code run at exit before $W is removed,
# CONSOLE_ARGS: options after the console command (--no-deliver).
W=$(mktemp -d "${TMPDIR:-/tmp}/hd-console.XXXXXX")
T="tmux -L hdtest-$$ -f /dev/null"
RPID=""
# On PostgreSQL (tests/run.sh's name@pg runs: HD_TEST_BACKEND=pg, HD_TEST_PG)
# the console's database is a fresh database on the test server, unless
# the test names one.
CONSOLE_PGDB=""
if [ "${HD_TEST_BACKEND:-}" = pg ] && [ -z "${CONSOLE_DB:-}" ]; then
    CONSOLE_PGDB="hd_console_$$"
    psql "$HD_TEST_PG dbname=postgres" -XAtq -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE $CONSOLE_PGDB" >/dev/null || exit 1
    CONSOLE_DB="$HD_TEST_PG dbname=$CONSOLE_PGDB"
fi
cleanup() {
    $T kill-server 2>/dev/null
    [ -n "$CONSOLE_PGDB" ] && psql "$HD_TEST_PG dbname=postgres" -XAtq \
        -c "DROP DATABASE IF EXISTS $CONSOLE_PGDB WITH (FORCE)" >/dev/null 2>&1
    # A test that mounted something for the console (a small tmpfs) says
    # how to undo it here, before the files go.
    [ -n "${CONSOLE_CLEANUP_EXTRA:-}" ] && eval "$CONSOLE_CLEANUP_EXTRA"
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

screen() { $T capture-pane -p -J -t hd; }
fail() {
    echo "FAIL: $*"
    echo "---- screen ----"
    screen
    echo "----------------"
    [ -s "$W/err.txt" ] && { echo "---- console stderr ----"; cat "$W/err.txt"; }
    exit 1
}
# deadline_start SECONDS, then deadline_passed in a polling loop: true once
# SECONDS have passed.  It reads the clock on every 20th call only (about
# once a second at 50 ms a poll): a `date` on every poll was a fifth of the
# polling's CPU, and a make test runs thousands of polls.
deadline_start() { dl_end=$(($(date +%s) + $1)); dl_n=0; }
deadline_passed() {
    dl_n=$((dl_n + 1))
    [ $((dl_n % 20)) -eq 0 ] && [ "$(date +%s)" -ge "$dl_end" ]
}
# wait_for GREP-ARGS...: polls the screen until grep matches (10 s).
wait_for() {
    deadline_start 10
    while :; do
        screen >"$W/screen" 2>/dev/null
        grep -q "$@" "$W/screen" && return 0
        deadline_passed && return 1
        sleep 0.05
    done
}
expect() { wait_for -e "$1" || fail "expected /$1/ on the screen"; }
expect_fixed() { wait_for -F -e "$1" || fail "expected '$1' on the screen"; }
# expect_count N REGEX: exactly N screen lines match.
expect_count() {
    deadline_start 10
    while :; do
        screen >"$W/screen" 2>/dev/null
        [ "$(grep -c -e "$2" "$W/screen")" -eq "$1" ] && return 0
        deadline_passed && fail "expected $1 lines matching /$2/"
        sleep 0.05
    done
}
# on_screen GREP-ARGS...: one look, for things that must NOT be there (after a
# positive expect has shown the screen is up to date).
on_screen() { screen >"$W/screen" 2>/dev/null; grep -q "$@" "$W/screen"; }
# keys KEY...: one write to the console.  As in every terminal program, an
# Esc is Esc alone only when nothing follows it within the Esc delay (Esc
# and a key sent together are Alt + that key): keys that end with Escape
# wait until the console has read them, so that the next ones cannot join it.
keys() {
    for last; do :; done
    if [ "$last" = Escape ]; then
        esc_mark=$(keys_traced)
        $T send-keys -t hd "$@"
        deadline_start 10
        until [ "$(keys_traced)" -ge $((esc_mark + $#)) ]; do
            deadline_passed && fail "the console did not read the keys '$*'"
            sleep 0.02
        done
    else
        $T send-keys -t hd "$@"
    fi
}
# For checks that something does NOT happen: keys_mark, send keys, then
# keys_settled N waits until the console has handled and drawn N more keys
# (its HOOKDESK_UI_TRACE file gets a line per key once its frame is drawn),
# so the check looks at the screen after those keys, not before them.
keys_traced() { grep -c '^key ' "$W/trace" 2>/dev/null || true; }
keys_mark() { KEYS_MARK=$(keys_traced); }
keys_settled() {
    deadline_start 10
    until [ "$(keys_traced)" -ge $((KEYS_MARK + $1)) ]; do
        deadline_passed && fail "the console did not handle $1 keys (trace: $(keys_traced) lines)"
        sleep 0.05
    done
}
type_text() { $T send-keys -t hd -l "$1"; }
hd() { "$HD" -c "$W/hd.yaml" "$@"; }

# ---- a real receiver on a free port ----
"$RECV" --port 0 >"$W/recv.out" 2>"$W/recv.err" &
RPID=$!
end=$(($(date +%s) + 10))
until grep -q listening "$W/recv.out" 2>/dev/null; do
    [ "$(date +%s)" -ge "$end" ] && { echo "FAIL: receiver did not start"; cat "$W/recv.err"; exit 1; }
    sleep 0.05
done
PORT=$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' "$W/recv.out")
cat >"$W/hd.yaml" <<EOF
database: "${CONSOLE_DB:-$W/t.db}"
network:
  allow_private: true   # the test receiver is on loopback
delivery:
  retry_interval: 100ms
  max_attempts: 3
  timeout: 2s
${CONSOLE_DELIVERY_EXTRA:-}
sites:
  - name: ok
    url: http://127.0.0.1:$PORT/ok
  - name: bad
    url: http://127.0.0.1:$PORT/status/500
  - name: esc
    url: http://127.0.0.1:$PORT/escape
${CONSOLE_SITES_EXTRA:-}
EOF
cat >"$W/run.sh" <<EOF
cd "$W"
HOOKDESK_UI_TRACE="$W/trace" "$HD" -c "$W/hd.yaml" ${CONSOLE_ARGS:+console $CONSOLE_ARGS} 2>"$W/err.txt"
echo "EXIT=\$?"
stty -a | tr ' ;' '\n\n' | grep -x -e '-\{0,1\}icanon' -e '-\{0,1\}echo'
sleep 600
EOF
$T new-session -d -s hd -x 80 -y 24 "sh $W/run.sh" || fail "tmux did not start"
TITLE0=$($T display -p -t hd '#{pane_title}')

