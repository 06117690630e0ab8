#!/bin/sh
# test_demo.sh - what `make run` runs (config/demo.sh), in a real terminal
# (tmux, 80x24): the intro is shown before the console, the console opens on
# the sample configuration with its five demo sites, the generator's messages
# are delivered to the demo receiver, and `q` stops the console, the
# generator and the receiver.
#
# The sample configuration is used as shipped except for its database (a temp
# dir) and its port (the demo's 8787 may be busy here).
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/hd-demo.XXXXXX")
T="tmux -L hddemo-$$ -f /dev/null"
cleanup() {
    $T kill-server 2>/dev/null
    pkill -f "$W/logs/receiver.log" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

screen() { $T capture-pane -p -J -t demo; }
fail() {
    echo "FAIL: $*"
    echo "---- screen ----"
    screen
    echo "----------------"
    for f in "$W"/logs/*.out "$W"/logs/generator.log; do
        [ -s "$f" ] && { echo "---- $f ----"; tail -20 "$f"; }
    done
    exit 1
}
# wait_for SECONDS GREP-ARGS...: polls the screen until grep matches.
wait_for() {
    end=$(($(date +%s) + $1))
    shift
    while :; do
        screen >"$W/screen" 2>/dev/null
        grep -q "$@" "$W/screen" && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
expect() { wait_for 10 -F -e "$1" || fail "expected '$1' on the screen"; }

# A port nobody listens on (the demo's receiver must get it).
PORT=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
    p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
    if ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then
        PORT=$p
        break
    fi
done
[ -n "$PORT" ] || fail "no free port found"
sed -e "s/127\.0\.0\.1:8787/127.0.0.1:$PORT/g" -e "s|^database: .*|database: $W/demo.db|" \
    "$ROOT/config/hookdesk.yaml" >"$W/demo.yaml"
grep -q "127.0.0.1:$PORT/ok" "$W/demo.yaml" || fail "sample config has no demo-ok on 8787"

cat >"$W/run.sh" <<EOF
cd "$ROOT"
HOOKDESK_DEMO_CONFIG="$W/demo.yaml" HOOKDESK_DEMO_PORT=$PORT HOOKDESK_DEMO_LOGS="$W/logs" \\
HOOKDESK_DEMO_PAUSE=2 sh config/demo.sh "$HD" "$RECV"
echo "DEMO EXIT=\$?"
sleep 600
EOF
$T new-session -d -s demo -x 80 -y 24 "sh $W/run.sh" || fail "tmux did not start"

# The intro is readable before the console takes the terminal.
expect "hookdesk demo: a receiver on 127.0.0.1:$PORT"
expect "Opening the console in 2 s"
# The console, delivering the generator's messages.
wait_for 10 -F -e "1 Logs" || fail "the console did not open"
wait_for 15 -E -e "demo-(ok|signed) .*Done" ||
    fail "no demo message delivered (Done) within 15 s"
$T send-keys -t demo 3
for s in demo-ok demo-flaky demo-slow demo-down demo-signed; do
    expect "$s"
done
# demo-signed's requests carry a Standard Webhooks signature the receiver
# (started with the same secret) checks.
end=$(($(date +%s) + 15))
until grep -q '"hmac_ok":true' "$W/logs/receiver.log" 2>/dev/null; do
    [ "$(date +%s)" -ge "$end" ] && fail "the receiver saw no correctly signed demo-signed request"
    sleep 0.1
done
grep -q '"hmac_ok":false' "$W/logs/receiver.log" && grep '"hmac_ok":false' "$W/logs/receiver.log" |
    grep -q 'webhook-signature' && fail "a demo-signed request failed the signature check"

# q: the console quits (after in-flight attempts), then the demo stops the
# generator and the receiver.
$T send-keys -t demo q
wait_for 15 -F -e "DEMO EXIT=0" || fail "the demo did not exit 0 after q"
expect "demo: stopped"
end=$(($(date +%s) + 10))
while pgrep -f "$W/logs/receiver.log" >/dev/null 2>&1 ||
      pgrep -f "HOOKDESK_DEMO_CONFIG=$W" >/dev/null 2>&1 ||
      pgrep -f "sh config/demo.sh $HD" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && fail "receiver or generator still running after the demo"
    sleep 0.1
done
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/ok" &&
    fail "something still answers on the demo port"
N=$("$HD" -c "$W/demo.yaml" logs --limit 0 --format csv | tail -n +2 | wc -l)
[ "$N" -gt 0 ] || fail "no message left in the demo database"
echo "demo: $N messages queued by the generator; console, generator and receiver stopped"
exit 0
