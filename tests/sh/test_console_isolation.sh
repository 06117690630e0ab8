#!/bin/sh
# test_console_isolation.sh - delivery isolation in a real terminal (tmux,
# 80x24, UTF-8): the site form's "Max in flight" field (checked as it is
# typed, nothing saved while it is wrong, saved, shown again, emptied back to
# the default); a dead site (nothing listens on port 9) whose circuit opens
# for real after delivery.breaker.failures (2) failed attempts, in the Sites
# screen's Circuit column and the selected site's line, in the Queue's Next
# column and in the detail; a receiver's Retry-After wait in the Queue and
# the detail.  Every change is checked with the CLI too.
#
# Every check polls the screen until it holds or 10 s pass, and prints the
# screen when it does not: no fixed sleeps.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
CONSOLE_DELIVERY_EXTRA='  breaker: {failures: 2, cooldown: 5m}'
CONSOLE_SITES_EXTRA='  - name: dead
    url: http://127.0.0.1:9/
    max_in_flight: 1'
. "$(dirname "$0")/console_common.sh"

# below LABEL TEXT: the screen line right under the form field LABEL holds TEXT.
below() {
    screen | grep -A1 "^ $1 " | tail -n 1 | grep -q -F -e "$2"
}
# site_json NAME PATTERN: `sites list --format json` of NAME matches PATTERN.
site_json() {
    hd sites list --format json | grep "\"name\":\"$1\"" | grep -q -e "$2"
}
MIF_MSG="max_in_flight: must be 1 to 256 (empty: the default)"

echo "# the Sites screen: a Circuit column, and the selected site's line"
expect_fixed "1 Logs"
keys 3
expect_fixed "4 trusted sites"
expect "^Name  *URL  *Auth  *Enabled  *Pending  *Success  *Circuit *$"
expect "^dead  *http://127.0.0.1:9/  *none  *yes  *0  *-  *closed *$"
expect "^bad  max in flight 4 (default)  circuit closed *$"   # the first site is selected
keys j
expect "^dead  max in flight 1  circuit closed *$"

echo "# the form shows the stored Max in flight and checks what is typed"
keys e
expect_fixed "Edit trusted site dead"
expect_fixed "Max in flight   1"
keys Tab Tab Tab Tab
expect_fixed "requests at once, 1-256 (empty: half of delivery.concurrency)"
for bad in 0 257 x 2.5 "1 2"; do
    keys C-u
    type_text "$bad"
    expect_fixed "Max in flight   $bad"
    wait_for -F -e "$MIF_MSG" || fail "'$bad' was not refused as it was typed"
    below "Max in flight" "$MIF_MSG" || fail "the message is not under the Max in flight field"
done
keys C-s
expect_fixed "not saved: $MIF_MSG"
site_json dead '"max_in_flight":1,"max_in_flight_default":false' || fail "a refused value was saved"

echo "# a good value is saved"
keys C-u
type_text "3"
expect_fixed "Max in flight   3"
keys_mark
keys End
keys_settled 1
below "Max in flight" "$MIF_MSG" && fail "the message stayed under the field after the fix"
keys C-s
expect_fixed "trusted site dead saved"
expect "^dead  max in flight 3  circuit closed *$"
site_json dead '"max_in_flight":3,"max_in_flight_default":false' || fail "max in flight 3 was not saved"

echo "# emptied, it is the default again (half of delivery.concurrency)"
keys e
expect_fixed "Max in flight   3"
keys Tab Tab Tab Tab C-u C-s
expect_fixed "trusted site dead saved"
expect "^dead  max in flight 4 (default)  circuit closed *$"
site_json dead '"max_in_flight":4,"max_in_flight_default":true' || fail "the default was not saved"
keys e
keys Tab Tab Tab Tab
type_text "1"
keys C-s
expect "^dead  max in flight 1  circuit closed *$"

echo "# a new site with its own max in flight"
keys a
expect_fixed "Add a trusted site"
type_text "mif2"
keys Tab
type_text "http://127.0.0.1:$PORT/ok"
keys Tab Tab Tab
type_text "2"
keys C-s
expect_fixed "trusted site mif2 saved"
expect_fixed "5 trusted sites"
site_json mif2 '"max_in_flight":2,"max_in_flight_default":false' || fail "mif2 was not saved with 2"

echo "# the dead site's circuit opens after 2 failed attempts"
keys g j
expect "^dead  max in flight 1  circuit closed *$"
for i in 1 2 3; do hd send --site dead --action "dead.$i" --customer cus_dead >/dev/null || fail "send"; done
expect "^dead  *http://127.0.0.1:9/  *none  *yes  *3  *0%  *open [0-9]"
expect "^dead  max in flight 1  circuit open, probe in [45]m[0-9]*s* after [2-9] failures *$"
expect "^  why: .*127.0.0.1 port 9"
site_json dead '"circuit":{"state":"open","failures":[2-9],' || fail "the CLI does not see the circuit open"

echo "# the Queue says why its messages wait; so does the detail"
keys 2
# (the long form when the column has room for it, the short one otherwise)
expect_count 3 "cus_dead  *dead  .*circuit open\(, probe in\)\{0,1\} [0-9]"
keys g Enter
expect_fixed "Trusted site dead"
expect "^Next attempt  *circuit open, probe in [45]m[0-9]*s* *$"
expect "^Site circuit  *open, probe in [45]m[0-9]*s* after [2-9] failures *$"
expect "^Open because  *.*127.0.0.1 port 9"
keys Escape
expect_fixed "Pending messages:"

echo "# a Retry-After wait"
hd sites add later --url "http://127.0.0.1:$PORT/retryafter/429/3540" >/dev/null || fail "sites add"
hd send --site later --action wait.please --customer cus_later >/dev/null || fail "send"
expect "cus_later  *later  *0  *Resent  *\(in 59m (Retry-After)\|5[89]m[0-9]*s* Retry-After\)"
keys g Enter
expect_fixed "Trusted site later"
expect "^Next attempt  *in 5[89]m[0-9s]* (Retry-After)"
on_screen "^Site circuit" && fail "a closed circuit shows in the detail"
keys Escape

echo "# q quits: exit code 0"
keys q
expect_fixed "EXIT=0"
echo "ok"
