#!/bin/sh
# demo.sh - what `make run` runs: a live hookdesk demo on this machine.
#
#   sh config/demo.sh ./hookdesk build/rel/hd-receiver
#
# 1. starts the demo receiver (hd-receiver) on 127.0.0.1:8787 in the
#    background: /ok answers 200, /flaky/40 answers 500 four times in ten,
#    /delay/5000 answers too late for the 2 s timeout;
# 2. starts a generator that queues a message every ~0.7 s with
#    `hookdesk send`, varying action, customer and trusted site;
# 3. runs the console in the foreground on config/hookdesk.yaml.
# When the console quits (q, or Ctrl-C) the trap stops the generator and
# the receiver.  The database (hookdesk.db) stays, so the CLI can look at
# what happened afterwards: ./hookdesk logs, ./hookdesk show ID.
#
# The intro stays on screen HOOKDESK_DEMO_PAUSE seconds (default 4) before
# the console takes the terminal.  tests/sh/test_demo.sh also moves the port,
# the configuration and the logs (HOOKDESK_DEMO_PORT, _CONFIG, _LOGS).
set -u
HD=${1:-./hookdesk}
RECV=${2:-build/rel/hd-receiver}
CFG=${HOOKDESK_DEMO_CONFIG:-config/hookdesk.yaml}
PORT=${HOOKDESK_DEMO_PORT:-8787}   # the port in the demo sites' URLs in $CFG
PAUSE=${HOOKDESK_DEMO_PAUSE:-4}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw   # the same as demo-signed's in $CFG
LOGS=${HOOKDESK_DEMO_LOGS:-build/demo}   # receiver and generator logs (build output)
RPID=""
GPID=""

cleanup() {
    [ -n "$GPID" ] && kill "$GPID" 2>/dev/null
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null
}
trap cleanup EXIT
# Ctrl-C reaches the console too, which quits the normal way; the shell runs
# this trap once the console has returned.
trap 'exit 130' INT TERM HUP

for f in "$HD" "$RECV"; do
    [ -x "$f" ] || { echo "demo: $f is missing; run make first" >&2; exit 2; }
done

mkdir -p "$LOGS"
: >"$LOGS/receiver.out"
"$RECV" --port "$PORT" --hmac-secret "$SECRET" --log "$LOGS/receiver.log" \
    >"$LOGS/receiver.out" 2>&1 &
RPID=$!
# Wait (at most 5 s) until it listens, so the first messages do not fail.
tries=0
until grep -q listening "$LOGS/receiver.out" 2>/dev/null; do
    if ! kill -0 "$RPID" 2>/dev/null || [ "$tries" -ge 100 ]; then
        echo "demo: the receiver did not start on port $PORT (is the port busy?):" >&2
        cat "$LOGS/receiver.out" >&2
        exit 1
    fi
    tries=$((tries + 1))
    sleep 0.05
done

# The generator: one message every ~0.7 s.  Most go to demo-ok; the others
# show every other status: demo-flaky (Resent, sometimes Failed), demo-slow
# (timeouts: Resent then Failed), demo-down (refused: Failed after 4
# attempts), demo-signed (Done, with a Standard Webhooks signature).
(
    i=0
    while :; do
        i=$((i + 1))
        case $((i % 10)) in
        0|3|6) site=demo-ok ;;
        1|7) site=demo-flaky ;;
        2) site=demo-signed ;;
        4) site=demo-slow ;;
        5) site=demo-down ;;
        *) site=demo-ok ;;
        esac
        case $((i % 7)) in
        0) action=order.created ;;
        1) action=order.paid ;;
        2) action=invoice.paid ;;
        3) action=invoice.overdue ;;
        4) action=customer.updated ;;
        5) action=subscription.renewed ;;
        *) action=refund.issued ;;
        esac
        customer=$(printf 'cus_%03d' $((i % 12 + 1)))
        name="Customer $((i % 12 + 1))"
        [ $((i % 12)) -eq 4 ] && name="Zoë Ørsted"   # UTF-8 in payloads
        printf '{"id":%d,"customer":"%s","name":"%s","amount":{"value":"%d.%02d","currency":"EUR"},"lines":[{"sku":"SKU-%d","qty":%d}]}' \
            "$i" "$customer" "$name" $((i * 7 % 300)) $((i * 13 % 100)) $((i % 40)) $((i % 3 + 1)) |
            "$HD" -c "$CFG" send --site "$site" --action "$action" --customer "$customer" \
                --payload - >/dev/null 2>>"$LOGS/generator.log"
        sleep 0.7
    done
) &
GPID=$!

cat <<EOF
hookdesk demo: a receiver on 127.0.0.1:$PORT and a message every ~0.7 s.
  Logs (1): every message, newest first; watch Queued turn Done, Resent, Failed.
  Queue (2): what is still to be sent, with the countdown to the next attempt.
  Sites (3): the five demo sites; t tests one, p pauses it, a adds one.
  ? shows every key; q quits (and stops the receiver and the generator).
EOF
# The console takes the whole terminal: leave the intro on screen a moment.
if [ "$PAUSE" -gt 0 ]; then
    printf 'Opening the console in %s s...\n' "$PAUSE"
    sleep "$PAUSE"
fi
"$HD" -c "$CFG"
rc=$?
echo "demo: stopped.  The messages stay in hookdesk.db: try ./hookdesk -c $CFG logs --limit 10"
exit $rc
