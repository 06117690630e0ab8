#!/bin/sh
# hookdesk on PostgreSQL: deliveries/s and CPU per delivery with 1, 2 and 4
# `serve` workers on one PostgreSQL database, beside one engine on SQLite,
# in the same run, to the same receiver (issue #12's benchmark).
#
#   sh bench/pg.sh ./hookdesk build/rel/hd-receiver
#
# The receiver is pinned to core RECV_CPU, everything on the sender's side
# (the workers and the PostgreSQL server, or the one SQLite engine) to
# CLIENT_CPU, so the figures compare what each design costs the sender's
# machine.  The server is a throwaway one (tests/pg_server.sh) with fsync on
# and synchronous_commit on, like the SQLite engine's synchronous=FULL:
# every state change durable on both sides.
# CPU per delivery = (workers' CPU + the server's CPU) / deliveries; the
# server's is read from its postmaster, whose children's times it collects
# as its backends exit.
set -eu
HD=$(realpath "${1:-./hookdesk}")
RECV=$(realpath "${2:-build/rel/hd-receiver}")
N=${N_PG:-20000}
WORKERS=${PG_WORKERS:-"1 2 4"}
CONC=${PG_CONC:-16}
RECV_CPU=${RECV_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
W=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-pgbench.XXXXXX")
chmod 0711 "$W"   # as root the server runs as `postgres`, which must reach $W/pg
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RPID=""
cleanup() {
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    sh "$ROOT/tests/pg_server.sh" stop "$W/pg" >/dev/null 2>&1 || :
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if pg_env=$(PG_FSYNC=on taskset -c "$CLIENT_CPU" sh "$ROOT/tests/pg_server.sh" start "$W/pg"); then
    :
elif [ $? -eq 77 ]; then
    echo "bench/pg.sh: skipped: no PostgreSQL server binaries (sh .ci/deps installs them)"
    exit 0
else
    echo "bench/pg.sh: the PostgreSQL server did not start" >&2
    exit 1
fi
eval "$pg_env"
PG="host=$PG_SOCKET user=$PG_USER"

taskset -c "$RECV_CPU" "$RECV" --port 0 >"$W/recv.out" 2>"$W/recv.err" &
RPID=$!
for _ in $(seq 250); do grep -q listening "$W/recv.out" 2>/dev/null && break; sleep 0.02; done
URL="http://127.0.0.1:$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' "$W/recv.out")/ok"

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"site\":\"bench\",\"action\":\"order.created\",\"customer\":\"cus_%d\",\"payload\":{\"order\":%d,\"total\":\"19.99\"}}\n", i % 1000, i }' \
    >"$W/msgs.jsonl"

# config DATABASE: a config for this run.
config() {
    cat >"$W/hookdesk.yaml" <<YAML
database: "$1"
network:
  allow_private: true
delivery:
  concurrency: $CONC
  synchronous: full
sites:
  - name: bench
    url: $URL
    max_in_flight: $CONC
YAML
}

postmaster_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15 + $16 + $17) / hz }' \
        "/proc/$(head -1 "$W/pg/data/postmaster.pid")/stat"
}
mark() { times >"$W/times"; }
child_cpu() {
    awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$W/times"
}
now() { date +%s.%N; }

# run NAME DATABASE WORKERS: import N messages, then WORKERS serve --drain
# at once; prints a line of figures.
run() {
    config "$2"
    "$HD" -c "$W/hookdesk.yaml" import "$W/msgs.jsonl" >/dev/null ||
        { echo "bench/pg.sh: import failed" >&2; exit 1; }
    mark
    c0=$(child_cpu)
    s0=0
    [ "$3" = sqlite ] || s0=$(postmaster_cpu)
    t0=$(now)
    n=${3#sqlite}
    [ -n "$n" ] || n=1
    i=0
    pids=""
    while [ "$i" -lt "$n" ]; do
        taskset -c "$CLIENT_CPU" "$HD" -c "$W/hookdesk.yaml" serve --drain >/dev/null 2>"$W/serve$i.err" &
        pids="$pids $!"
        i=$((i + 1))
    done
    for p in $pids; do
        wait "$p" || { echo "bench/pg.sh: serve failed:" >&2; cat "$W"/serve*.err >&2; exit 1; }
    done
    t1=$(now)
    mark
    c1=$(child_cpu)
    s1=0
    [ "$3" = sqlite ] || { sleep 0.3; s1=$(postmaster_cpu); }
    awk -v name="$1" -v n="$N" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v s0="$s0" \
        -v s1="$s1" 'BEGIN { c = c1 - c0; s = s1 - s0
        printf "%-22s %8.0f deliveries/s  hookdesk %6.1f us  server %6.1f us  total %6.1f us CPU per delivery\n",
            name, n / (t1 - t0), c * 1e6 / n, s * 1e6 / n, (c + s) * 1e6 / n }' | tee -a "$W/results"
}

echo "== hookdesk on PostgreSQL beside SQLite: $N deliveries each, $CONC in flight per worker; receiver on core $RECV_CPU, senders (and the server) on core $CLIENT_CPU"
run "SQLite, 1 engine" "$W/bench.db" sqlite
k=0
for w in $WORKERS; do
    k=$((k + 1))
    createdb -h "$PG_SOCKET" -U "$PG_USER" "bench$k"
    run "PostgreSQL, $w worker(s)" "$PG dbname=bench$k" "$w"
done
base=$(awk 'NR == 1 { print $4 }' "$W/results")
echo "ratios of deliveries/s to SQLite's:"
awk -v b="$base" 'NR > 1 { printf "  %-22s %.2f\n", $1 " " $2 " " $3, $4 / b }' "$W/results"
