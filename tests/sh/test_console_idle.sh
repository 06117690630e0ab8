#!/bin/sh
# test_console_idle.sh - an idle console costs nothing (issue #11, defect
# 10): while nothing commits, the Logs and Sites screens never query their
# rows again (the console's trace logs a line per re-query), whatever the
# database holds; a commit from another process (a CLI send) re-queries
# once and the new row shows.  The check counts re-queries, not CPU time:
# a loaded machine cannot make it fail, and it fails at the first query an
# idle turn would run.
#
# A watching console (--no-deliver): no engine of its own writes heartbeats.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
CONSOLE_ARGS=--no-deliver
. "$(dirname "$0")/console_common.sh"

refreshes() { grep -c '^refresh ' "$W/trace" 2>/dev/null || true; }
# idle_for SECONDS SCREEN: no re-query of the screen in that time.  (A check
# that something does not happen needs a window; 2 s is 20 loop turns and
# two 1 s ticks.)
idle_for() {
    before=$(refreshes)
    sleep "$1"
    after=$(refreshes)
    [ "$after" -eq "$before" ] ||
        fail "an idle console re-queried $2 $((after - before)) times in $1 s: $(tail -3 "$W/trace")"
}

hd send --site ok --action first.one --customer cus_1 >/dev/null ||
    fail "send failed"
expect_fixed "1 Logs"
expect "first.one"

echo "# Logs, idle: no re-query"
idle_for 2 Logs

echo "# a commit from another process: one re-query, the row shows"
before=$(refreshes)
hd send --site ok --action second.one --customer cus_2 >/dev/null ||
    fail "send failed"
expect "second.one"
[ "$(refreshes)" -gt "$before" ] || fail "the new row showed without a re-query?"
idle_for 2 Logs

echo "# a filter, idle: no re-query (nor recount)"
keys '&'
type_text "one"
keys Enter
expect "row 1 of 2$"
idle_for 2 "Logs (filtered)"

echo "# Sites, idle: no re-query"
keys 3
expect_fixed "3 trusted sites"
idle_for 2 Sites
echo "all checks passed"
