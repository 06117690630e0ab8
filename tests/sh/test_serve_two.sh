#!/bin/sh
# Two `serve` processes on one database share 500 messages through leases:
# every message is delivered and no webhook-id reaches the receiver twice
# (without a kill there are no in-flight duplicates to excuse).
. "$(dirname "$0")/cli_common.sh"

N=500
start_receiver
cat >"$TMP/hookdesk.yaml" <<YAML
database: $HD_DB
delivery:
  concurrency: 8
  retry_interval: 50ms
  timeout: 5s
  poll_interval: 20ms
network:
  allow_private: true
sites:
  - name: shared
    url: http://127.0.0.1:$RX_PORT/delay/20
YAML
# 20 ms per request, 8 at a time: one process alone needs over a second for
# all 500, far longer than the other takes to start (with 2 ms the first
# could drain everything before the second, under ASan, claimed any).

i=1
while [ $i -le $N ]; do
    echo "{\"site\":\"shared\",\"action\":\"two.test\",\"payload\":{\"i\":$i}}"
    i=$((i + 1))
done >"$TMP/msgs.jsonl"
hd import "$TMP/msgs.jsonl"
expect_rc 0 "import of $N messages"

"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve --drain >"$TMP/a.out" 2>"$TMP/a.err" &
APID=$!
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve --drain >"$TMP/b.out" 2>"$TMP/b.err" &
BPID=$!
deadline=$(($(date +%s) + 120))
while kill -0 "$APID" 2>/dev/null || kill -0 "$BPID" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        kill -9 "$APID" "$BPID" 2>/dev/null
        fail "the two serve --drain did not finish within 120 s"
        break
    fi
    sleep 0.05
done
wait "$APID"
ARC=$?
wait "$BPID"
BRC=$?
check "first serve exits 0 (rc $ARC; $(tail -2 "$TMP/a.err"))" test "$ARC" -eq 0
check "second serve exits 0 (rc $BRC; $(tail -2 "$TMP/b.err"))" test "$BRC" -eq 0

hd logs --status done --limit 0 --format json
check "all $N messages Done ($(count_lines "$TMP/out"))" test "$(count_lines "$TMP/out")" -eq $N
check "each Done after exactly one attempt" test "$(grep -c '"attempts":1}' "$TMP/out")" -eq $N

TOTAL=$(count_lines "$RX_LOG")
IDS=$(grep -o '"webhook-id":"msg_[0-9a-z]*"' "$RX_LOG" | sort -u | wc -l | tr -d ' ')
check "receiver got $N requests ($TOTAL)" test "$TOTAL" -eq $N
check "no webhook-id received twice ($IDS distinct of $TOTAL)" test "$IDS" -eq "$TOTAL"
# Both processes took part (one line per attempt on stderr).
A=$(grep -c '^hookdesk: msg ' "$TMP/a.err")
B=$(grep -c '^hookdesk: msg ' "$TMP/b.err")
check "both processes delivered (a=$A b=$B)" test "$A" -gt 0 -a "$B" -gt 0
check "the per-attempt lines add up ($A + $B)" test $((A + B)) -eq $N
finish
