#!/bin/sh
# test_console_resend_filter.sh - `R` resends only what the filter shows: with
# status=queued it offers nothing (it offered "all N Failed" before), with
# status=failed it counts and resends the Failed ones; `r` refuses a payload
# over delivery.max_payload (stored under a larger, older limit) and `R`
# skips it, saying so; `r` on a message still pending says it would be sent
# twice; and
# TERM=dumb is refused with a clear message instead of a blank screen.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
CONSOLE_DELIVERY_EXTRA="  breaker: {failures: 0}
  max_payload: 1KiB"
CONSOLE_SITES_EXTRA="  - name: held
    url: http://127.0.0.1:9/held
    enabled: false"
. "$(dirname "$0")/console_common.sh"

echo "# two Failed messages (the 500 site), then the filter status=queued"
hd send --site bad --action doomed.one >/dev/null
hd send --site bad --action doomed.two >/dev/null
expect_fixed "1 Logs"
expect_count 2 "doomed.*Failed"
keys s   # any -> queued
expect_fixed "Filter: status=queued"
keys R
expect_fixed "the filter shows no Failed messages: nothing to resend"
on_screen -F "Resend all" && fail "R offered a resend under status=queued"

echo "# status=failed: R counts the two and resends them"
keys s s s   # queued -> resent -> done -> failed
expect_fixed "Filter: status=failed"
keys R
expect_fixed "Resend all 2 Failed messages under the current filter?"
keys y
expect_fixed "resent 2 Failed messages"

echo "# r: a payload over max_payload (stored under a larger limit) is not resent"
sed 's/max_payload: 1KiB/max_payload: 64KiB/' "$W/hd.yaml" >"$W/big.yaml"
pad=$(head -c 2000 /dev/zero | tr '\0' x)
printf '{"pad":"%s"}' "$pad" >"$W/big.json"
"$HD" -c "$W/big.yaml" send --site bad --action big.one --payload "$W/big.json" >/dev/null
expect_count 1 "big.one.*Failed"
keys s   # failed -> any
keys g
expect "^>*.*big.one"
keys r
expect_fixed "Resend message"
keys y
expect "#[0-9]* not resent: its payload (2010 bytes) is over delivery.max_payload (1 KiB)"

echo "# R: the same rule; the oversized one is skipped, and the count says so"
keys s s s s   # any -> queued -> resent -> done -> failed
expect_fixed "Filter: status=failed"
keys R
expect "Resend all [0-9]* Failed messages under the current filter?"
keys y
expect "resent [0-9]* Failed messages; 1 skipped: payload over delivery.max_payload (1 KiB)"
[ "$(hd logs --action big.one --format csv | tail -n +2 | wc -l)" -eq 1 ] ||
    fail "the oversized payload was resent by R"

echo "# r on a message still pending warns that it would be sent twice (issue #11)"
hd send --site held --action still.waiting >/dev/null
keys Escape
expect_fixed "All messages"
expect_count 1 "still.waiting.*Queued"
keys g
expect "^>*.*still.waiting"
keys r
expect_fixed "#"
expect "#[0-9]* is still pending (Queued): resend anyway (sends it twice)? \[y/N\]"
keys n
expect_fixed "cancelled"
expect_count 1 "still.waiting"
keys r
expect "still pending (Queued): resend anyway"
keys y
expect_count 2 "still.waiting.*Queued"
echo "# ... and so does r in the detail"
keys Enter
expect "^Status  *Queued"
keys r
expect "is still pending (Queued): resend anyway (sends it twice)?"
keys n
keys Escape
echo "# a Failed message is asked about as before"
keys '&'
type_text "doomed.one"
keys Enter
expect_fixed "Filter: action~doomed.one"
keys r
expect_fixed "Resend message #"
on_screen -F "still pending" && fail "a Failed message was called pending"
keys n
keys Escape

echo "# TERM=dumb: refused, with the reason"
out=$(TERM=dumb script -qc "$HD -c $W/hd.yaml" /dev/null </dev/null 2>&1)
echo "$out" | grep -q "cannot move the cursor" || { echo "FAIL: TERM=dumb: $out"; exit 1; }
echo "ok"
