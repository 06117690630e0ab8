#!/bin/sh
# serve, as a separate process: a message sent by another process is picked
# up at once although the poll interval is an hour (the database watch); a
# failing site's circuit opens after delivery.breaker.failures failures, is
# logged, shows in `sites list`, and closes (logged) once the site answers.
. "$(dirname "$0")/cli_common.sh"

start_receiver
cat >"$TMP/hookdesk.yaml" <<YAML
database: $HD_DB
delivery:
  retry_interval: 50ms
  max_attempts: 10
  poll_interval: 1h
  breaker:
    failures: 2
    cooldown: 300ms
    max_cooldown: 1s
network:
  allow_private: true
sites:
  - name: ok
    url: http://127.0.0.1:$RX_PORT/ok
  - name: broken
    url: http://127.0.0.1:$RX_PORT/status/500
    max_in_flight: 1
YAML
hd sites list
expect_rc 0 "config with breaker keys loads"

"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve >"$TMP/serve.out" 2>"$TMP/serve.err" &
SPID=$!

rx_has() { grep -q "$1" "$RX_LOG" 2>/dev/null; }

# The engine has made its first (empty) claim and sleeps for an hour now.
sleep 0.5
hd send --site ok --action wake.up
expect_rc 0 "send"
check "a message sent by another process is delivered at once (poll interval 1h)" \
    wait_for 3 rx_has '"path":"/ok"'

i=0
while [ $i -lt 3 ]; do
    hd send --site broken --action doomed
    i=$((i + 1))
done
check "serve logs the circuit opening" wait_for 5 grep -q "site broken: circuit open after 2 failed attempts" "$TMP/serve.err"
hd sites list --format json
check "sites list --format json shows the open circuit ($(cat "$TMP/out"))" \
    grep -Eq '"state": ?"open"' "$TMP/out"
hd sites list
check "sites list shows the open circuit" grep -q "open" "$TMP/out"

hd sites edit broken --url "http://127.0.0.1:$RX_PORT/ok"
expect_rc 0 "sites edit"
check "serve logs the circuit closing" wait_for 5 grep -q "site broken: circuit closed" "$TMP/serve.err"
hd queue --format json
check "everything delivered after the circuit closed" wait_for 5 sh -c \
    "'$HOOKDESK_BIN' -c '$TMP/hookdesk.yaml' queue --format json | grep -q . && exit 1 || exit 0"
check "the 3 messages went to the site once it answered" \
    test "$(grep -c '"path":"/ok"' "$RX_LOG")" -eq 4

kill -TERM "$SPID"
wait "$SPID"
RC=$?
check "serve exits 0 on SIGTERM (rc $RC)" test "$RC" -eq 0
finish
