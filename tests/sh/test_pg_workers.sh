#!/bin/sh
# Several hosts on one PostgreSQL database (issue #12): three `serve`
# workers, each in a network namespace of its own with its own hostname,
# reach the server and the receiver over a bridge this test makes (veth
# pairs, private addresses).  Where namespaces are not allowed, the three
# run as plain processes over TCP on loopback (said in the output).
#
# 3,000 messages; worker 2 is killed with kill -9 when a third are Done; the
# server is restarted when two thirds are.  Then: all 3,000 Done; every
# webhook-id reached the receiver; the only duplicates are within the
# killed worker's in-flight bound (8 x concurrency: what an engine may hold
# unrecorded); and while they ran, `hookdesk engines` listed the workers of
# every host.
. "$(dirname "$0")/cli_common.sh"

N=${PG_WORKERS_N:-3000}
CONC=8
BOUND=$((8 * CONC))
# Not under $TMP (0700): as root the server runs as `postgres`.
PGTOP=$(mktemp -d "${TMPDIR:-/tmp}/hookdesk-pg.XXXXXX")
chmod 0711 "$PGTOP"
PGDIR="$PGTOP/s"
NETS=""
WPIDS=""

net_cleanup() {
    for p in $WPIDS; do kill -9 "$p" 2>/dev/null; done
    for ns in $NETS; do ip netns del "$ns" 2>/dev/null; done
    [ -n "${BR:-}" ] && ip link del "$BR" 2>/dev/null
    sh tests/pg_server.sh stop "$PGDIR" 2>/dev/null
    rm -rf "$PGTOP"
    cleanup
}
trap net_cleanup EXIT INT TERM

# The test's own network: bridge $BR at $HOST_IP, worker i at .(10+i).
SUB="10.$((200 + $$ % 50)).$(($$ / 50 % 250)).0"
BASE=${SUB%.0}
BR="hdbr$$"
make_net() {
    ip link add "$BR" type bridge 2>/dev/null || return 1
    ip addr add "$BASE.1/24" dev "$BR" && ip link set "$BR" up || return 1
    for i in 1 2 3; do
        ns="hdw$$-$i"
        ip netns add "$ns" || return 1
        NETS="$NETS $ns"
        ip link add "hv$$a$i" type veth peer name eth0 netns "$ns" || return 1
        ip link set "hv$$a$i" master "$BR" up || return 1
        ip -n "$ns" link set lo up &&
            ip -n "$ns" addr add "$BASE.$((10 + i))/24" dev eth0 &&
            ip -n "$ns" link set eth0 up || return 1
    done
}
if [ "$(id -u)" -eq 0 ] && make_net; then
    HOST_IP="$BASE.1"
    MODE=netns
else
    for ns in $NETS; do ip netns del "$ns" 2>/dev/null; done
    NETS=""
    ip link del "$BR" 2>/dev/null
    BR=""
    HOST_IP=127.0.0.1
    MODE=processes
fi
echo "workers: $MODE (server and receiver at $HOST_IP)"

# The server on TCP at the bridge address; the receiver beside it.
pg_env=$(PG_LISTEN=$HOST_IP sh tests/pg_server.sh start "$PGDIR") || {
    rc=$?
    [ "$rc" -eq 77 ] && { echo "SKIP: no PostgreSQL server binaries"; exit 0; }
    echo "FAIL: the test server did not start" >&2
    exit 1
}
eval "$pg_env"
# The server trusts the test's addresses, so the password is never checked:
# it is here to show that no output of hookdesk ever prints it.
PW=hd-not-printed-7f3a
DB="host=$HOST_IP port=$PG_PORT user=$PG_USER dbname=hookdesk connect_timeout=5 password=$PW"

RX_LOG="$TMP/rx.log"
"$HD_RECEIVER_BIN" --port 0 --bind "$HOST_IP" --log "$RX_LOG" >"$TMP/rx.out" 2>"$TMP/rx.err" &
RX_PID=$!
wait_for 10 grep -q '^listening on' "$TMP/rx.out" || { echo "receiver did not start" >&2; exit 1; }
RX_PORT=$(sed -n 's/^listening on \([0-9][0-9]*\).*/\1/p' "$TMP/rx.out")

cat >"$TMP/hookdesk.yaml" <<YAML
database: "$DB"
delivery:
  concurrency: $CONC
  retry_interval: 200ms
  max_attempts: 20
  timeout: 2s
  lease: 2s
  poll_interval: 200ms
  fault_timeout: 60s
network:
  allow_private: true
sites:
  - name: shared
    url: http://$HOST_IP:$RX_PORT/delay/2
    max_in_flight: $CONC
YAML

i=1
while [ "$i" -le "$N" ]; do
    echo "{\"site\":\"shared\",\"action\":\"workers.test\",\"payload\":{\"i\":$i}}"
    i=$((i + 1))
done >"$TMP/msgs.jsonl"
hd import "$TMP/msgs.jsonl"
expect_rc 0 "import of $N messages into PostgreSQL"

# start_worker I: serve --drain on "host" hdwI.
start_worker() {
    if [ "$MODE" = netns ]; then
        ip netns exec "hdw$$-$1" unshare --uts sh -c 'hostname "$1"; shift; exec "$@"' sh \
            "hdw$1" "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve --drain \
            >"$TMP/w$1.out" 2>"$TMP/w$1.err" &
    else
        "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve --drain >"$TMP/w$1.out" 2>"$TMP/w$1.err" &
    fi
    eval "W$1=\$!"
    WPIDS="$WPIDS $!"
}
start_worker 1
start_worker 2
start_worker 3

q() { psql "$DB" -Atc "$1" 2>/dev/null; }
done_at_least() { [ "$(q 'SELECT count(*) FROM messages WHERE status = 2')" -ge "$1" ] 2>/dev/null; }

wait_for 60 done_at_least 200 || fail "no deliveries within 60 s"
hd engines
HOSTS=$(awk 'NR > 1 { print $1 }' "$TMP/out" | sort -u | tr '\n' ' ')
if [ "$MODE" = netns ]; then
    check "engines lists the workers of the three hosts (got: $HOSTS)" \
        test "$(awk 'NR > 1 && $1 ~ /^hdw[123]$/ { print $1 }' "$TMP/out" | sort -u | wc -l)" -eq 3
else
    check "engines lists three serve workers" test "$(grep -c serve "$TMP/out")" -ge 3
fi

wait_for 120 done_at_least $((N / 3)) || fail "a third not Done within 120 s"
kill -9 "$W2"
echo "killed worker 2 at $(q 'SELECT count(*) FROM messages WHERE status = 2') Done"

wait_for 120 done_at_least $((2 * N / 3)) || fail "two thirds not Done within 120 s"
sh tests/pg_server.sh restart "$PGDIR" || fail "server restart"
echo "restarted the server at $(q 'SELECT count(*) FROM messages WHERE status = 2') Done"

# Leases of the killed worker expire (site timeout 2 s + lease 2 s); the two
# left drain everything and exit.
deadline=$(($(date +%s) + 180))
while kill -0 "$W1" 2>/dev/null || kill -0 "$W3" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        fail "workers still running after 180 s"
        break
    fi
    sleep 0.2
done
for w in 1 3; do
    wait "$(eval echo "\$W$w")"
    rc=$?
    check "worker $w exit 0 (got $rc; stderr: $(tail -3 "$TMP/w$w.err"))" test "$rc" -eq 0
done

DONE=$(q 'SELECT count(*) FROM messages WHERE status = 2')
check "all $N Done (got $DONE)" test "$DONE" = "$N"
TOTAL=$(grep -c '"webhook-id":"msg_' "$RX_LOG")
IDS=$(grep -o '"webhook-id":"msg_[0-9a-z]*"' "$RX_LOG" | sort -u | wc -l | tr -d ' ')
DUPS=$((TOTAL - IDS))
echo "received $TOTAL requests for $IDS messages: $DUPS duplicates (bound $BOUND)"
check "every message reached the receiver ($IDS of $N)" test "$IDS" -eq "$N"
check "duplicates within the killed worker's in-flight bound ($DUPS <= $BOUND)" \
    test "$DUPS" -le "$BOUND"
ATT=$(q 'SELECT count(*) FROM attempts')
check "every recorded attempt was received ($ATT recorded, $TOTAL received)" test "$ATT" -le "$TOTAL"
check "lost at most the killed worker's unrecorded attempts ($((TOTAL - ATT)) <= $BOUND)" \
    test $((TOTAL - ATT)) -le "$BOUND"
check "no worker printed the database password" sh -c "! grep -q '$PW' '$TMP'/w*.err '$TMP'/w*.out"
grep -q "delivering from postgresql://$PG_USER@$HOST_IP:$PG_PORT/hookdesk" "$TMP/w1.err" ||
    fail "serve names the database without its password: $(head -1 "$TMP/w1.err")"
grep -qi 'database\|connection' "$TMP/w1.err" "$TMP/w3.err" ||
    echo "note: no worker reported the server restart (it fell between their calls)"
finish
