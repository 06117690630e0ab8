#!/bin/sh
# hookdesk benchmarks: every figure is printed beside a baseline measured in
# the same run on the same machine, so the ratios mean something.
#
#   sh bench/run.sh ./hookdesk build/rel/hd-receiver build/rel/hd-floor [build/rel/hd-store-only]
#
# 1. the hot path: CPU per delivery of `hookdesk serve --drain` beside the
#    floor of any libcurl-based sender (bench/floor.c: the multi interface,
#    the same requests, nothing recorded), client and receiver each pinned
#    to a core of its own (HOT_ONLY=1 runs only this); then what durable
#    recording alone costs (bench/store_only.c: the engine committer's
#    transactions, no HTTP) and the bound it puts on that ratio;
# 2. deliveries/s of `hookdesk serve --drain` to a fast loopback receiver,
#    beside the receiver's own ceiling (wrk) and `curl --parallel` posting the
#    same messages;
# 3. `hookdesk import` rows/s beside raw batched inserts by the sqlite3 shell;
# 4. the console at 10,000 and 1,000,000 messages, and with its engine busy
#    delivering 100,000 (bench/console.sh).
set -eu
HD=$(realpath "${1:-./hookdesk}")
RECV=$(realpath "${2:-build/rel/hd-receiver}")
FLOOR=$(realpath "${3:-build/rel/hd-floor}")
# hd-store-only: by default beside hd-floor (both are built in build/rel).
STORE_ONLY=$(realpath "${4:-$(dirname "$FLOOR")/hd-store-only}")
N_HOT=${N_HOT:-100000}        # requests per hot-path run
HOT_CONC=${HOT_CONC:-32}      # transfers in flight in the hot path
HOT_MAX_IN_FLIGHT=${HOT_MAX_IN_FLIGHT-32}   # the site's max_in_flight; empty: key left out
RECV_CPU=${RECV_CPU:-0}       # the cores the hot path pins the receiver
CLIENT_CPU=${CLIENT_CPU:-1}   # and the client to (comma-separated lists)
HOT_RECV_LOG=${HOT_RECV_LOG:-0}   # 1: the hot receiver logs, to count what it got
HOT_RUNS=${HOT_RUNS:-3}       # runs of each, interleaved; medians
HOT_ONLY=${HOT_ONLY:-0}
STORE_B=${STORE_B:-"128 64 32"}   # hd-store-only batch sizes (outcomes per transaction);
                                  # the first is about the engine's (~100 at 32 in flight)
N_DELIVER=${N_DELIVER:-20000}
N_IMPORT=${N_IMPORT:-200000}
CONC=${CONC:-"16 64"}   # one delivery comparison per value
W=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-bench.XXXXXX")
RPID="" HPID=""
cleanup() {
    for p in $RPID $HPID; do kill "$p" 2>/dev/null || :; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# CPU seconds (user + system) used so far by this shell's finished
# children: `mark` runs `times` in this shell (not in a $(...) subshell,
# whose children are not ours), child_cpu reads what it wrote.
mark() { times >"$W/times"; }
child_cpu() {
    awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$W/times"
}
# CPU seconds used so far by a receiver (all its threads; default the
# shared one).
recv_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/${1:-$RPID}/stat"
}
# Microseconds of CPU per request: us CPU_BEFORE CPU_AFTER REQUESTS.
us() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (b - a) * 1e6 / n }'; }
us1() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }'; }
median3() { printf '%s\n%s\n%s\n' "$1" "$2" "$3" | sort -n | sed -n 2p; }
# wait_port OUT ERR: the port a receiver started with stdout OUT, stderr
# ERR listens on, once it does.
wait_port() {
    for _ in $(seq 250); do grep -q listening "$1" 2>/dev/null && break; sleep 0.02; done
    p=$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' "$1")
    [ -n "$p" ] || { echo "bench: receiver did not start" >&2; cat "$2" >&2; exit 1; }
    echo "$p"
}
# jsonl N FILE: N messages for the site "bench" with BODY as payload.
jsonl() {
    awk -v n="$1" -v body="$BODY" 'BEGIN { for (i = 0; i < n; i++)
        printf "{\"site\":\"bench\",\"action\":\"order.created\",\"customer\":\"cus_%d\",\"payload\":%s}\n", i % 1000, body }' \
        >"$2"
}

BODY='{"order":{"id":42,"total":"19.99","currency":"EUR"},"note":"benchmark payload"}'
echo "== machine: $(nproc) cores, $(uname -srm)"

# ---- 1. the hot path ----
# hookdesk's CPU per delivery beside the floor of any libcurl-based sender:
# hd-floor (bench/floor.c) posts the same body with the same headers,
# HOT_CONC in flight on reused handles and connections, and keeps nothing.
# Its receiver (not the shared one) runs on core RECV_CPU, the client on
# CLIENT_CPU, so neither waits for a core and each one's CPU is its own.
# HOT_RUNS (3) runs each, interleaved; medians.  hookdesk's runs start from a
# freshly imported database (the import is not timed), synchronous=FULL.
HOT_LOG=/dev/null
if [ "$HOT_RECV_LOG" = 1 ]; then
    HOT_LOG=$W/hot-recv.log
    : >"$HOT_LOG"
    taskset -c "$RECV_CPU" "$RECV" --port 0 --log "$HOT_LOG" >"$W/hot-recv.out" 2>"$W/hot-recv.err" &
else
    taskset -c "$RECV_CPU" "$RECV" --port 0 >"$W/hot-recv.out" 2>"$W/hot-recv.err" &
fi
HPID=$!
HURL="http://127.0.0.1:$(wait_port "$W/hot-recv.out" "$W/hot-recv.err")/ok"
jsonl "$N_HOT" "$W/hot.jsonl"
{
    echo "database: $W/hot.db"
    echo "network:"
    echo "  allow_private: true   # the receiver is on loopback"
    echo "delivery:"
    echo "  concurrency: $HOT_CONC"
    echo "  synchronous: full     # every state change durable"
    echo "sites:"
    echo "  - name: bench"
    echo "    url: $HURL"
    [ -z "$HOT_MAX_IN_FLIGHT" ] || echo "    max_in_flight: $HOT_MAX_IN_FLIGHT"
} >"$W/hot.yaml"

# Requests the hot receiver has logged so far ("-" when it does not log).
hot_got() { if [ "$HOT_RECV_LOG" = 1 ]; then wc -l <"$HOT_LOG"; else echo -; fi; }
hot_fail() { echo "bench: hot path: $1 failed:" >&2; cat "$W/hot.err" >&2; exit 1; }

# CPU seconds of the pinned cores so far: "TASKS SOFTIRQ", TASKS being
# user + nice + system (what processes are charged), SOFTIRQ the kernel's
# softirq time (loopback TCP's receive side, largely), charged to no process.
# cores_cpu CPUS: of those cores instead.
cores_cpu() {
    awk -v cpus="${1:-$RECV_CPU,$CLIENT_CPU}" -v hz="$(getconf CLK_TCK)" '
        BEGIN { n = split(cpus, c, ","); for (i = 1; i <= n; i++) pinned["cpu" c[i]] = 1 }
        $1 in pinned { t += $2 + $3 + $4; s += $8 }
        END { printf "%.2f %.2f", t / hz, s / hz }' /proc/stat
}

# hot_run floor|hookdesk: one measured run of N_HOT requests; appends
# "req/s wall-seconds client-us receiver-us got ok softirq-us others-%" to
# $W/hot.floor or $W/hot.hookdesk (got: the requests the receiver logged,
# "-" without HOT_RECV_LOG=1; ok: the 2xx answers hd-floor counted, or
# hookdesk's recorded "2xx/attempts"; softirq-us: softirq time on the
# pinned cores per request; others-%: CPU the pinned cores gave to other processes,
# in % of the wall time; more than a few and the run was disturbed).
hot_run() {
    if [ "$1" = hookdesk ]; then
        rm -f "$W/hot.db" "$W/hot.db-wal" "$W/hot.db-shm"
        "$HD" -c "$W/hot.yaml" import "$W/hot.jsonl" >/dev/null 2>"$W/hot.err" ||
            hot_fail "hookdesk import"
    fi
    g0=$(hot_got); k0=$(cores_cpu); r0=$(recv_cpu "$HPID"); mark; c0=$(child_cpu); t0=$(now)
    if [ "$1" = floor ]; then
        taskset -c "$CLIENT_CPU" "$FLOOR" "$HURL" "$N_HOT" "$HOT_CONC" "$BODY" \
            >"$W/floor.out" 2>"$W/hot.err" || hot_fail "hd-floor"
    else
        taskset -c "$CLIENT_CPU" "$HD" -c "$W/hot.yaml" serve --drain >"$W/hot.out" 2>"$W/hot.err" ||
            hot_fail "hookdesk serve --drain"
    fi
    t1=$(now); mark; c1=$(child_cpu); r1=$(recv_cpu "$HPID"); k1=$(cores_cpu); g1=$(hot_got)
    if [ "$1" = floor ]; then
        ok=$(sed -n 's/.*requests, \([0-9]*\) 2xx.*/\1/p' "$W/floor.out")
    else
        ok=$(sqlite3 "$W/hot.db" "SELECT total(response_code BETWEEN 200 AND 299) || '/' || count(*) FROM attempts" |
             awk -F/ '{ printf "%d/%d", $1, $2 }')
    fi
    [ "$g0" = - ] && got=- || got=$((g1 - g0))
    echo "$(rate "$N_HOT" "$t0" "$t1") $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
         "$(us1 "$c0" "$c1" "$N_HOT") $(us1 "$r0" "$r1" "$N_HOT") $got $ok" \
         "$(echo "$k0 $k1" | awk -v n="$N_HOT" -v c0="$c0" -v c1="$c1" -v r0="$r0" -v r1="$r1" \
                -v t0="$t0" -v t1="$t1" '{ others = $3 - $1 - (c1 - c0) - (r1 - r0)
             printf "%.1f %.0f", ($4 - $2) * 1e6 / n, (others > 0 ? others : 0) * 100 / (t1 - t0) }')" >>"$W/hot.$1"
}
# hot_med floor|hookdesk COLUMN: the median of that column over the runs;
# hot_min: its least value.
hot_med() {
    awk -v c="$2" '{ print $c }' "$W/hot.$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
hot_min() { awk -v c="$2" '{ print $c }' "$W/hot.$1" | sort -n | head -n 1; }
# hot_runs floor|hookdesk: each run's figures.
hot_runs() {
    awk '{ printf "%s%s %s/%s/%s %s%%", (NR > 1 ? ", " : ""), $1, $3, $4, $7, $8 }' "$W/hot.$1"
}

# What durable recording alone costs, with no HTTP at all: hd-store-only
# (bench/store_only.c) runs the engine committer's transactions on a real
# database (synchronous=FULL, the committer's connection options), each
# recording the outcomes of B deliveries (attempt rows of hookdesk's size)
# and claiming the next B with store_claim_fair, for N_HOT messages seeded
# beforehand (not timed), pinned to the client's core.  hookdesk must at
# least send like the floor and record like this, so
# floor / (floor + store-only) bounds the ratio above whatever the engine
# does around them.  Its runs are interleaved with the others (the machine's
# speed drifts); the median run of each B.
# store_run B: one run; appends "cpu-us user-us sys-us deliveries/s
# ms-per-transaction done others-%" to $W/hot.storeB (others-%: CPU the
# client's cores gave to other processes, in % of the time; the kernel's
# journal threads doing the fsyncs count there too).
store_run() {
    k0=$(cores_cpu "$CLIENT_CPU"); mark; c0=$(child_cpu); t0=$(now)
    taskset -c "$CLIENT_CPU" "$STORE_ONLY" -n "$N_HOT" -b "$1" -d "$W" \
        >"$W/store.out" 2>"$W/store.err" ||
        { echo "bench: hd-store-only -b $1 failed:" >&2; cat "$W/store.err" >&2; exit 1; }
    t1=$(now); mark; c1=$(child_cpu); k1=$(cores_cpu "$CLIENT_CPU")
    awk -v k="$k0 $k1" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" '
        /^store-only: n=/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            split(k, kk, " "); o = kk[3] - kk[1] - (c1 - c0)
            printf "%s %s %s %s %s %s %.0f\n", v["cpu_us"], v["user_us"], v["sys_us"], v["dps"],
                v["tx_ms"], v["done"], (o > 0 ? o : 0) * 100 / (t1 - t0) }' \
        "$W/store.out" >>"$W/hot.store$1"
}
[ -x "$STORE_ONLY" ] || STORE_B=""

echo "== hot path ($N_HOT requests, $HOT_CONC in flight; receiver on core $RECV_CPU, client on core $CLIENT_CPU;" \
     "load average $(cut -d' ' -f1 /proc/loadavg))"
: >"$W/hot.floor"
: >"$W/hot.hookdesk"
for b in $STORE_B; do : >"$W/hot.store$b"; done
for _ in $(seq "$HOT_RUNS"); do
    hot_run floor
    hot_run hookdesk
    for b in $STORE_B; do store_run "$b"; done
done
F_RPS=$(hot_med floor 1) F_WALL=$(hot_med floor 2) F_US=$(hot_med floor 3) F_RX=$(hot_med floor 4)
H_RPS=$(hot_med hookdesk 1) H_WALL=$(hot_med hookdesk 2) H_US=$(hot_med hookdesk 3) H_RX=$(hot_med hookdesk 4)
echo "floor (hd-floor, libcurl multi):        $F_RPS req/s, $F_WALL s  (CPU per request: client $F_US us, receiver $F_RX us)"
echo "hookdesk serve --drain:                 $H_RPS deliveries/s, $H_WALL s  (CPU per delivery: hookdesk $H_US us, receiver $H_RX us)"
echo "  CPU per request, floor / hookdesk:    $(ratio "$F_US" "$H_US")  (target >= 0.60)"
echo "  deliveries/s, hookdesk / floor:       $(ratio "$H_RPS" "$F_RPS")"
F_MIN=$(hot_min floor 3) H_MIN=$(hot_min hookdesk 3)
echo "  least CPU per request of any run:     floor $F_MIN us, hookdesk $H_MIN us," \
     "ratio $(ratio "$F_MIN" "$H_MIN")  (other load only adds CPU)"
echo "  each run: req/s, CPU us per request of client/receiver/softirq (no process is charged"
echo "  for it), others' CPU on the pinned cores in % of the time"
echo "    floor:                              $(hot_runs floor)"
echo "    hookdesk:                           $(hot_runs hookdesk)"
# What was delivered, per run: hd-floor fails on anything but a 2xx;
# hookdesk's recorded attempts (and, logging, what the receiver got).
awk -v n="$N_HOT" '{ split($6, a, "/"); printf "%s%s 2xx of %s attempts%s%s", (NR > 1 ? ", " : ""),
    a[1], a[2], (a[1] == n ? "" : " (NOT ALL " n ")"), ($5 == "-" ? "" : " (receiver got " $5 ")") }' \
    "$W/hot.hookdesk" >"$W/hot.check"
echo "  recorded by hookdesk, per run:        $(cat "$W/hot.check")"
[ "$HOT_RECV_LOG" = 1 ] &&
    echo "  got by the receiver from hd-floor:    $(awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $5 }' "$W/hot.floor")"
kill "$HPID" 2>/dev/null || :
wait "$HPID" 2>/dev/null || :
HPID=""
if [ -n "$STORE_B" ]; then
    echo "  durable recording alone (hd-store-only: record B outcomes + claim B per transaction, no HTTP," \
         "core $CLIENT_CPU; CPU us per delivery):"
    for b in $STORE_B; do
        # The run of median CPU per delivery, whole (its user and sys add up).
        read -r S_US S_USER S_SYS S_DPS S_TXMS _ <<EOF
$(sort -n "$W/hot.store$b" | awk '{ r[NR] = $0 } END { print r[int((NR + 1) / 2)] }')
EOF
        echo "    B=$b: $S_US us (user $S_USER, sys $S_SYS), $S_DPS deliveries/s, $S_TXMS ms per transaction;" \
             "bound on floor / hookdesk: $(awk -v f="$F_US" -v s="$S_US" 'BEGIN { printf "%.2f", f / (f + s) }');" \
             "$(awk -v s="$S_US" -v h="$H_US" 'BEGIN { printf "%.0f", s * 100 / h }')% of hookdesk's $H_US us"
        # Each round's store-only run beside that round's floor run (columns 1-8).
        echo "      each run: CPU us user/sys, others' CPU %, bound with its round's floor:" \
             "$(paste -d ' ' "$W/hot.floor" "$W/hot.store$b" | awk '{ printf "%s%s %s/%s %s%% %.2f (%s Done)",
                 (NR > 1 ? ", " : ""), $9, $10, $11, $15, $3 / ($3 + $9), $14 }')"
    done
    echo "    (bound: floor / (floor + store-only): hookdesk must send like the floor and record like this)"
else
    echo "  durable recording alone: skipped ($STORE_ONLY not built: make build/rel/hd-store-only)"
fi
[ "$HOT_ONLY" = 1 ] && exit 0

# ---- 2. deliveries, beside wrk and curl --parallel; 3. import; 4. console ----
"$RECV" --port 0 >"$W/recv.out" 2>"$W/recv.err" &
RPID=$!
PORT=$(wait_port "$W/recv.out" "$W/recv.err")
URL="http://127.0.0.1:$PORT/ok"

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
jsonl "$N_DELIVER" "$W/deliver.jsonl"

# One `hookdesk serve --drain` of N_DELIVER freshly imported messages;
# sets HD_RPS, and adds to HD_CPU / RX_CPU (CPU seconds while it ran).
serve_once() {
    rm -f "$W/deliver.db" "$W/deliver.db-wal" "$W/deliver.db-shm"
    "$HD" -c "$W/hd.yaml" sites add bench --url "$URL" >/dev/null
    "$HD" -c "$W/hd.yaml" import "$W/deliver.jsonl" >/dev/null
    mark; c0=$(child_cpu); r0=$(recv_cpu); t0=$(now)
    "$HD" -c "$W/hd.yaml" serve --drain >/dev/null 2>&1
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
