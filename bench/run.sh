#!/bin/sh
# hookdesk benchmarks: every figure is printed beside a baseline measured in
# the same run on the same machine, so the ratios mean something.
#
#   sh bench/run.sh ./hookdesk build/rel/hd-receiver
#
# 1. deliveries/s of `hookdesk serve --drain` to a fast loopback receiver,
#    beside the receiver's own ceiling (wrk) and `curl --parallel` posting the
#    same messages;
# 2. `hookdesk import` rows/s beside raw batched inserts by the sqlite3 shell;
# 3. the console at 10,000 and 1,000,000 messages, and with its engine busy
#    delivering 100,000 (bench/console.sh).
set -eu
HD=$(realpath "${1:-./hookdesk}")
RECV=$(realpath "${2:-build/rel/hd-receiver}")
N_DELIVER=${N_DELIVER:-20000}
N_IMPORT=${N_IMPORT:-200000}
CONC=${CONC:-"16 64"}   # one delivery comparison per value
W=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-bench.XXXXXX")
RPID=""
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

"$RECV" --port 0 >"$W/recv.out" 2>"$W/recv.err" &
RPID=$!
for _ in $(seq 100); do grep -q listening "$W/recv.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' "$W/recv.out")
[ -n "$PORT" ] || { echo "bench: receiver did not start" >&2; cat "$W/recv.err" >&2; exit 1; }
URL="http://127.0.0.1:$PORT/ok"
BODY='{"order":{"id":42,"total":"19.99","currency":"EUR"},"note":"benchmark payload"}'

echo "== machine: $(nproc) cores, $(uname -srm)"
cat >"$W/post.lua" <<LUA
wrk.method = "POST"
wrk.body   = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
printf '%s' "$BODY" >"$W/body.json"
: >"$W/curl.cfg"
i=0
while [ $i -lt "$N_DELIVER" ]; do
    [ $i -gt 0 ] && echo next >>"$W/curl.cfg"
    printf 'url = "%s"\ndata = "@%s"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' \
        "$URL" "$W/body.json" >>"$W/curl.cfg"
    i=$((i + 1))
done
awk -v n="$N_DELIVER" -v body="$BODY" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"site\":\"bench\",\"action\":\"order.created\",\"customer\":\"cus_%d\",\"payload\":%s}\n", i % 1000, body }' \
    >"$W/deliver.jsonl"

# CPU seconds (user + system) used so far by this shell's finished
# children: `mark` runs `times` in this shell (not in a $(...) subshell,
# whose children are not ours), child_cpu reads what it wrote.
mark() { times >"$W/times"; }
child_cpu() {
    awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$W/times"
}
# CPU seconds used so far by the receiver (all its threads).
recv_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$RPID/stat"
}
# Microseconds of CPU per request: us CPU_BEFORE CPU_AFTER REQUESTS.
us() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (b - a) * 1e6 / n }'; }
median3() { printf '%s\n%s\n%s\n' "$1" "$2" "$3" | sort -n | sed -n 2p; }

# One `hookdesk serve --drain` of N_DELIVER freshly imported messages;
# sets HD_RPS, and adds to HD_CPU / RX_CPU (CPU seconds while it ran).
serve_once() {
    rm -f "$W/deliver.db" "$W/deliver.db-wal" "$W/deliver.db-shm"
    "$HD" -c "$W/hd.yaml" sites add bench --url "$URL" >/dev/null
    "$HD" -c "$W/hd.yaml" import "$W/deliver.jsonl" >/dev/null
    mark; c0=$(child_cpu); r0=$(recv_cpu); t0=$(now)
    "$HD" -c "$W/hd.yaml" serve --drain 2>/dev/null
    t1=$(now); mark; c1=$(child_cpu); r1=$(recv_cpu)
    HD_RPS=$(rate "$N_DELIVER" "$t0" "$t1")
    HD_CPU=$(awk -v t="$HD_CPU" -v a="$c0" -v b="$c1" 'BEGIN { print t + b - a }')
    RX_CPU=$(awk -v t="$RX_CPU" -v a="$r0" -v b="$r1" 'BEGIN { print t + b - a }')
}

# One curl --parallel run; sets CURL_RPS and adds to CURL_CPU / CRX_CPU.
curl_once() {
    mark; c0=$(child_cpu); r0=$(recv_cpu); t0=$(now)
    curl -s -S --no-progress-meter --parallel --parallel-max "$C" -K "$W/curl.cfg"
    t1=$(now); mark; c1=$(child_cpu); r1=$(recv_cpu)
    CURL_RPS=$(rate "$N_DELIVER" "$t0" "$t1")
    CURL_CPU=$(awk -v t="$CURL_CPU" -v a="$c0" -v b="$c1" 'BEGIN { print t + b - a }')
    CRX_CPU=$(awk -v t="$CRX_CPU" -v a="$r0" -v b="$r1" 'BEGIN { print t + b - a }')
}

# deliveries C: the three ways of posting N_DELIVER messages, C at a time.
# curl and hookdesk run three times each, interleaved (the machine's speed
# drifts); their medians are compared.  Beside each rate: the CPU time per
# request of the client and of the receiver, which bounds what two cores
# can do at all.
deliveries() {
    C=$1
    echo "== deliveries ($N_DELIVER messages, $C at a time, receiver on 127.0.0.1:$PORT)"
    # Baseline 1: the receiver's own ceiling with a load generator.
    mark; c0=$(child_cpu); r0=$(recv_cpu)
    wrk -t2 -c"$C" -d5s -s "$W/post.lua" "$URL" >"$W/wrk.out"
    mark; c1=$(child_cpu); r1=$(recv_cpu)
    WRK_RPS=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$W/wrk.out")
    WRK_N=$(awk '/requests in/ { print $1 }' "$W/wrk.out")
    echo "receiver ceiling (wrk -c$C):            $WRK_RPS req/s  (CPU per request: wrk $(us "$c0" "$c1" "$WRK_N") us, receiver $(us "$r0" "$r1" "$WRK_N") us)"
    cat >"$W/hd.yaml" <<YAML
database: $W/deliver.db
network:
  allow_private: true   # the receiver is on loopback
delivery:
  concurrency: $C
  synchronous: full     # every state change durable
YAML
    HD_CPU=0 RX_CPU=0 CURL_CPU=0 CRX_CPU=0
    curl_once; cr1=$CURL_RPS; serve_once; hr1=$HD_RPS
    curl_once; cr2=$CURL_RPS; serve_once; hr2=$HD_RPS
    curl_once; cr3=$CURL_RPS; serve_once; hr3=$HD_RPS
    CURL_RPS=$(median3 "$cr1" "$cr2" "$cr3")
    HD_RPS=$(median3 "$hr1" "$hr2" "$hr3")
    N3=$((3 * N_DELIVER))
    echo "curl --parallel (max $C):               $CURL_RPS req/s  (median of $cr1 $cr2 $cr3; CPU per request: curl $(us 0 "$CURL_CPU" "$N3") us, receiver $(us 0 "$CRX_CPU" "$N3") us)"
    DONE=$("$HD" -c "$W/hd.yaml" logs --status done --limit 1000000 --format csv | tail -n +2 | wc -l)
    HD_US=$(us 0 "$HD_CPU" "$N3")
    RX_US=$(us 0 "$RX_CPU" "$N3")
    echo "hookdesk serve --drain:                 $HD_RPS deliveries/s  (median of $hr1 $hr2 $hr3; $DONE/$N_DELIVER Done in the last; CPU per delivery: hookdesk $HD_US us, receiver $RX_US us)"
    echo "  ratio to receiver ceiling:            $(ratio "$HD_RPS" "$WRK_RPS")  (target >= 0.50)"
    echo "  ratio to curl --parallel:             $(ratio "$HD_RPS" "$CURL_RPS")"
    echo "  CPU bound, $(nproc) cores / (hookdesk + receiver CPU): $(awk -v c="$(nproc)" -v a="$HD_US" -v b="$RX_US" 'BEGIN { printf "%.0f", c * 1e6 / (a + b) }') deliveries/s at most"
}
for C in $CONC; do
    deliveries "$C"
done

echo "== import ($N_IMPORT messages)"
cat >"$W/imp.yaml" <<YAML
database: $W/import.db
network:
  allow_private: true
YAML
"$HD" -c "$W/imp.yaml" sites add bench --url "$URL" >/dev/null
awk -v n="$N_IMPORT" -v body="$BODY" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"site\":\"bench\",\"action\":\"order.created\",\"customer\":\"cus_%d\",\"payload\":%s}\n", i % 1000, body }' \
    >"$W/import.jsonl"
t0=$(now)
"$HD" -c "$W/imp.yaml" import "$W/import.jsonl" >/dev/null
t1=$(now)
IMP_RPS=$(rate "$N_IMPORT" "$t0" "$t1")

# Baseline: the sqlite3 shell inserting the same rows into a copy of the
# same schema (same indexes and triggers), 10,000 rows per transaction.
sqlite3 "$W/import.db" .schema >"$W/schema.sql"
sqlite3 "$W/raw.db" <"$W/schema.sql"
sqlite3 "$W/raw.db" "PRAGMA journal_mode=WAL" >/dev/null
awk -v n="$N_IMPORT" -v body="$BODY" 'BEGIN {
    print "PRAGMA synchronous=FULL;"
    for (i = 0; i < n; i++) {
        if (i % 10000 == 0) print "BEGIN;"
        printf "INSERT INTO messages(webhook_id,site_id,action,customer,payload,status,attempts,due_at,created_at,updated_at) VALUES(%c%s%d%c,1,%corder.created%c,%ccus_%d%c,%c%s%c,0,0,0,0,0);\n", 39, "msg_raw", i, 39, 39, 39, 39, i % 1000, 39, 39, body, 39
        if (i % 10000 == 9999) print "COMMIT;"
    }
    if (n % 10000) print "COMMIT;"
}' >"$W/raw.sql"
t0=$(now)
sqlite3 "$W/raw.db" <"$W/raw.sql"
t1=$(now)
RAW_RPS=$(rate "$N_IMPORT" "$t0" "$t1")
echo "sqlite3 shell, batched INSERTs:         $RAW_RPS rows/s"
echo "hookdesk import:                        $IMP_RPS messages/s  (target >= 100000)"
echo "  ratio to raw sqlite3 inserts:         $(ratio "$IMP_RPS" "$RAW_RPS")"

if [ "${BENCH_CONSOLE:-1}" = 1 ] && [ -f bench/console.sh ]; then
    sh bench/console.sh "$HD" "$W" "$URL"
fi
