#!/bin/sh
# serve --drain delivers everything and exits 0; show lists attempts;
# resend links the new message; purge --older-than removes only old rows.
. "$(dirname "$0")/cli_common.sh"

start_receiver
write_config "sites:
  - name: ok
    url: http://127.0.0.1:$RX_PORT/ok
  - name: broken
    url: http://127.0.0.1:$RX_PORT/status/500"

N=40
i=1
while [ $i -le $N ]; do
    echo "{\"site\":\"ok\",\"action\":\"ping\",\"customer\":\"c$i\",\"payload\":{\"i\":$i}}"
    i=$((i + 1))
done >"$TMP/msgs.jsonl"
hd import "$TMP/msgs.jsonl"
expect_rc 0 "import"
hd send --site broken --action doomed --customer bad
BAD=$(cat "$TMP/out")

hd queue --format json
check "all pending before serve" test "$(count_lines "$TMP/out")" -eq $((N + 1))

# --- serve --drain: delivers, retries the broken one to Failed, exits 0 ---
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve --drain >"$TMP/serve.out" 2>"$TMP/serve.err" &
SPID=$!
deadline=$(($(date +%s) + 60))
while kill -0 "$SPID" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        kill "$SPID"
        fail "serve --drain did not exit within 60 s"
        break
    fi
    sleep 0.05
done
wait "$SPID"
RC=$?
check "serve --drain exits 0 (rc $RC; $(tail -3 "$TMP/serve.err"))" test "$RC" -eq 0
check "serve prints a summary" grep -q "^serve: .*attempts" "$TMP/serve.out"

hd queue --format json
check "nothing pending after drain" test "$(count_lines "$TMP/out")" -eq 0
hd logs --status done --limit 0 --format json
check "all $N delivered" test "$(count_lines "$TMP/out")" -eq "$N"
check "codes recorded" grep -q '"response_code":200,"attempts":1' "$TMP/out"
check "receiver got $N posts to /ok" test "$(grep -c '"path":"/ok"' "$RX_LOG")" -eq "$N"
hd logs --status failed --format json
check "broken one failed after 3 attempts" grep -q "\"id\":$BAD,.*\"status\":\"failed\",\"response_code\":500,\"attempts\":3" "$TMP/out"

# --- show with attempts ---
hd show "$BAD"
check "show lists attempt 3" grep -q "^Attempt 3: .*HTTP 500" "$TMP/out"
check "show has request headers" grep -qi "webhook-id: msg_" "$TMP/out"
hd show "$BAD" --format json
check "show json attempts array" grep -q '"attempts":\[{"number":1,' "$TMP/out"
check "show json attempt code" grep -q '"response_code":500,"error":' "$TMP/out"

# --- resend --status failed: every Failed message once, never twice ---
hd resend --status failed --site broken
expect_rc 0 "resend --status failed"
check "bulk resend count" grep -q "^resent 1 failed message" "$TMP/out"
hd resend --status failed --site broken
expect_rc 0 "resend --status failed again"
check "a second bulk resend sends nothing twice" grep -q "^resent 0 failed messages" "$TMP/out"

# --- resend ID: a new linked message (by hand, even if resent before) ---
hd resend "$BAD"
expect_rc 0 "resend"
NEW=$(sed -n 's/^resent [0-9]* -> \([0-9]*\)$/\1/p' "$TMP/out")
check "resend prints the new id" test -n "$NEW"
hd show "$NEW"
check "show has resend_of" grep -q "^Resend of: *$BAD\$" "$TMP/out"
hd show "$NEW" --format json
check "show json resend_of" grep -q "\"resend_of\":$BAD" "$TMP/out"
hd show "$BAD" --format json
check "original keeps its history" grep -q '"status":"failed"' "$TMP/out"
hd resend 999999
expect_rc 1 "resend of a missing message"
hd resend --status done
expect_rc 2 "bulk resend only for failed"

# --- purge --older-than: only old finished rows ---
hd purge --older-than 1h
expect_rc 0 "purge --older-than 1h"
check "nothing that young purged" grep -q "^purged 0 messages" "$TMP/out"
sleep 0.2   # every message is now older than 100ms
hd purge --older-than 100ms
expect_rc 0 "purge --older-than 100ms"
check "finished messages purged" grep -q "^purged $((N + 1)) messages" "$TMP/out"
hd logs --limit 0 --format json
check "pending messages kept" test "$(count_lines "$TMP/out")" -eq 2
hd purge --older-than soon
expect_rc 2 "purge with a bad duration"

finish
