#!/bin/sh
# bench/console.sh - the console at 10,000 and 1,000,000 messages, side by
# side (issue #3's targets: first screen < 100 ms, every keystroke < 30 ms,
# RSS < 32 MiB, the same at both sizes).
#
#   sh bench/console.sh ./hookdesk WORKDIR      (bench/run.sh calls it)
#
# The console runs in tmux at 80x24 with --no-deliver and
# HOOKDESK_UI_TRACE, which makes it log the time to its first full screen,
# then for every key the time from reading it to the frame showing its
# effect (queries included), and its memory at exit.  Keys are sent one at
# a time, each after the previous one's frame is out.
set -eu
HD=$(realpath "${1:-./hookdesk}")
W=${2:-$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-bench.XXXXXX")}
# With a receiver URL, a third run keeps the embedded engine busy delivering
# 100,000 messages to it while the keys are timed ("keys never lag").
RECV_URL=${3:-}
if [ -n "$RECV_URL" ]; then
    SIZES=${CONSOLE_SIZES:-"10000 1000000 100000+engine"}
else
    SIZES=${CONSOLE_SIZES:-"10000 1000000"}
fi
T="tmux -L hdbench-$$ -f /dev/null"
trap '$T kill-server 2>/dev/null || true' EXIT

# Lines of the trace that answer a key (the trace also logs every re-query).
lines() { [ -f "$1" ] && grep -c -e '^first_screen_ms' -e '^key ' -e '^rss_kib' "$1" || true; }
IDLE_SECS=${IDLE_SECS:-30}
# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# idle_cpu PID TRACE LABEL: the console's CPU % over IDLE_SECS with no key,
# and how many times it re-queried its screen meanwhile.
idle_cpu() {
    sleep 2   # the last key's frame and counts settle first
    r0=$(grep -c '^refresh ' "$2")
    c0=$(cpu_ticks "$1")
    sleep "$IDLE_SECS"
    c1=$(cpu_ticks "$1")
    r1=$(grep -c '^refresh ' "$2")
    echo "$3 $(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v s="$IDLE_SECS" \
        'BEGIN { printf "%.2f", t * 100 / hz / s }') $((r1 - r0))"
}
# wait_lines FILE N: until FILE has N lines (10 s at most).
wait_lines() {
    i=0
    while [ "$(lines "$1")" -lt "$2" ]; do
        i=$((i + 1))
        [ $i -gt 1000 ] && { echo "bench: console did not answer (trace $1)" >&2; cat "$1" >&2; exit 1; }
        sleep 0.01
    done
}

for SPEC in $SIZES; do
    N=${SPEC%%+*}
    ENGINE=""
    [ "$SPEC" != "$N" ] && ENGINE=1
    db="$W/console-$SPEC.db"
    cfg="$W/console-$SPEC.yaml"
    rm -f "$db" "$db-wal" "$db-shm"
    printf 'database: %s\nnetwork:\n  allow_private: true\ndelivery:\n  synchronous: normal\n' "$db" >"$cfg"
    if [ -n "$ENGINE" ]; then
        "$HD" -c "$cfg" sites add bench --url "$RECV_URL" >/dev/null
    else
        "$HD" -c "$cfg" sites add bench --url http://127.0.0.1:9/hook >/dev/null
    fi
    awk -v n="$N" 'BEGIN {
        split("order.created order.paid invoice.paid invoice.overdue customer.updated refund.issued", a, " ")
        for (i = 0; i < n; i++)
            printf "{\"site\":\"bench\",\"action\":\"%s\",\"customer\":\"cus_%d\",\"payload\":{\"n\":%d}}\n", a[i % 6 + 1], i % 5000, i
    }' >"$W/console-$SPEC.jsonl"
    "$HD" -c "$cfg" import "$W/console-$SPEC.jsonl" >/dev/null
    # A realistic mix: 70% Done, 20% Failed, 10% still Queued (with the
    # engine: all Queued, for it to deliver while the keys are timed).
    [ -n "$ENGINE" ] ||
        sqlite3 "$db" "UPDATE messages SET status = CASE WHEN id % 10 < 7 THEN 2 ELSE 3 END,
                       attempts = 1, due_at = NULL, response_code = 200 WHERE id % 10 < 9;" >/dev/null

    tr="$W/trace-$SPEC"
    : >"$tr"
    t0=$(date +%s%N)
    deliver=--no-deliver
    [ -n "$ENGINE" ] && deliver=""
    $T new-session -d -s b$N -x 80 -y 24 \
        "HOOKDESK_UI_TRACE='$tr' '$HD' -c '$cfg' console $deliver; sleep 30"
    wait_lines "$tr" 1
    # Seen from outside: launch (tmux and sh included) to the first frame,
    # to within the 10 ms of wait_lines' polling.
    echo "launch_to_first_screen_ms $(( ($(date +%s%N) - t0) / 1000000 ))" >"$W/launch-$SPEC"
    n=1
    key() {   # key TMUX-KEY: send it, wait for its frame
        $T send-keys -t b$N "$1"
        n=$((n + 1))
        wait_lines "$tr" $n
    }
    for _ in 1 2 3 4 5; do key NPage; done
    key G
    key g
    for _ in 1 2 3 4 5; do key s; done          # any -> queued -> ... -> failed -> any
    key /
    for c in i n v o i c e; do key "$c"; done
    key Enter                                   # the search runs here
    key Escape                                  # clear
    for _ in 1 2 3; do key j; done
    key C-d                                     # half pages
    key C-d
    key C-u
    key '#'                                     # find a message by number
    for c in 5 0 0 0; do key "$c"; done
    key Enter
    key Escape
    # A search that matches nothing reads every row: the worst case.
    key /
    for c in z q x; do key "$c"; done
    key Enter
    key Escape
    # Idle: nothing commits; then another process commits once a second
    # (as a serve's heartbeats and deliveries would).
    pid=$(pgrep -P "$($T display -p -t b$N '#{pane_pid}')" | head -1)
    idle_cpu "$pid" "$tr" idle_still >"$W/idle-$SPEC"
    sqlite3 "$db" "CREATE TABLE IF NOT EXISTS bench_touch (n INTEGER)"
    ( while :; do sqlite3 "$db" "PRAGMA busy_timeout = 2000; INSERT INTO bench_touch VALUES (1)" >/dev/null; sleep 1; done ) &
    toucher=$!
    idle_cpu "$pid" "$tr" idle_commits >>"$W/idle-$SPEC"
    kill "$toucher"
    wait "$toucher" 2>/dev/null || true
    $T send-keys -t b$N q
    n=$((n + 1))
    wait_lines "$tr" $n
    $T kill-session -t b$N 2>/dev/null || true
done

# worst FILE PATTERN: the slowest matching key in ms.
worst() { awk -v k="$2" '$1 == "key" && $2 == k { if ($4 > m) m = $4 } END { printf "%.1f", m }' "$1"; }
first() { awk '$1 == "first_screen_ms" { printf "%.1f", $2 }' "$1"; }
rss() { awk '$1 == "rss_kib" { printf "%.1f", $4 / 1024 }' "$1"; }
row() {   # row LABEL FUNCTION ARGS...
    label=$1
    shift
    printf '%-34s' "$label"
    for N in $SIZES; do printf '%15s' "$("$@" "$W/trace-$N" 2>/dev/null)"; done
    echo
}
w1() { worst "$1" PgDn; }
w2() { worst "$1" G; }
w3() { worst "$1" g; }
w4() { worst "$1" s; }
w5() { awk '$1 == "key" && $2 == "Enter" { c++; if (c == 1) printf "%.1f", $4 }' "$1"; }
w8() { awk '$1 == "key" && $2 == "Enter" { c++; if (c == 3) printf "%.1f", $4 }' "$1"; }
w6() { worst "$1" j; }
w7() { worst "$1" Esc; }
echo "== console (80x24; --no-deliver but in the +engine column; ms from key to its frame, worst case)"
printf '%-34s' "messages"
for N in $SIZES; do printf '%15s' "$N"; done
echo
row "first full screen (ms)" first
launch() { awk '{ printf "%.0f", $2 }' "$W/launch-${1##*-}"; }
row "  from launch, tmux incl. (ms)" launch
row "PgDn (ms)" w1
row "G, to the oldest (ms)" w2
row "g, to the newest (ms)" w3
row "s, status filter (ms)" w4
row "/ search 'invoice', Enter (ms)" w5
row "/ search, no match (ms)" w8
row "Esc, clear filter (ms)" w7
row "j (ms)" w6
w9() { worst "$1" ^D; }
w10() { awk '$1 == "key" && $2 == "Enter" { c++; if (c == 2) printf "%.1f", $4 }' "$1"; }
row "^D, half a page (ms)" w9
row "# find by number, Enter (ms)" w10
wk() { awk '$1 == "key" { if ($4 > m) m = $4 } END { printf "%.1f", m }' "$1"; }
row "worst of all keys (ms)" wk
row "peak RSS (MiB)" rss
idle() { awk -v k="$2" '$1 == k { printf "%s", $2 }' "$W/idle-${1##*-}"; }
idle_q() { awk -v k="$2" '$1 == k { printf "%s", $3 }' "$W/idle-${1##*-}"; }
i1() { idle "$1" idle_still; }
i2() { idle_q "$1" idle_still; }
i3() { idle "$1" idle_commits; }
i4() { idle_q "$1" idle_commits; }
row "idle CPU % ($IDLE_SECS s, nothing commits)" i1
row "  re-queries meanwhile" i2
row "idle CPU % (a commit a second)" i3
row "  re-queries meanwhile" i4
echo "targets: first screen < 100 ms, keys < 30 ms, RSS < 32 MiB, idle about 0% CPU"
