#!/bin/sh
# test_console_search.sh - the Logs' search (issue #11, what operators
# missed 2): `/` looks at the action, the customer and the payload, the
# cursor jumps to the first match, every visible match is marked (bold,
# a `>` before the status) and the list stays whole; n goes to the next
# match down (older), N up (newer), the footer says "match 2 of 3" and "no more matches" at
# either end (no wrap); the filter narrows what a search walks; Esc clears
# it; `hookdesk logs --search` finds the same messages.
# The console runs --no-deliver: the messages stay Queued, nothing moves.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC NO_COLOR=1   # the selected row in reverse video
CONSOLE_ARGS=--no-deliver
. "$(dirname "$0")/console_common.sh"

send() {   # ACTION CUSTOMER PAYLOAD
    printf '%s' "$3" >"$W/p.json"
    hd send --site ok --action "$1" --customer "$2" --payload "$W/p.json" >/dev/null ||
        fail "send $1 failed"
}
# Oldest first; the list shows them newest first (#5 at the top).
send order.created cus_lion '{"animal":"Zebra","n":1}'   # 1: in the payload
send refund cus_zebra_01 '{"n":2}'                        # 2: in the customer
send invoice.paid cus_3 '{"n":3}'                         # 3: no zebra
send zebra.seen cus_4 '{"n":4}'                           # 4: in the action
send other cus_5 '{"note":"nothing here"}'                # 5: no zebra

ESC=$(printf '\033')
# The selected row (reverse video) holds $1.
expect_selected() {
    end=$(($(date +%s) + 10))
    while :; do
        $T capture-pane -p -e -t hd | grep "$ESC\[[0-9;]*7m" | grep -q -e "$1" && return 0
        [ "$(date +%s)" -ge "$end" ] && fail "the selected row does not hold /$1/"
        sleep 0.05
    done
}

expect_fixed "1 Logs"
expect "other  *cus_5"
expect_selected "other"

echo "# n before any search says how to search"
keys n
expect_fixed "no search yet"

echo "# / searches the action, customer and payload: the cursor on the first match"
keys /
expect_fixed "Search action, customer, payload:"
type_text "ZEBRA"
keys Enter
expect_fixed "Search: ZEBRA (n/N)"
expect_selected "zebra\.seen"
expect_fixed "match 1 of 3 for 'ZEBRA'"
echo "# the list stays whole, the three matches marked"
expect_count 1 "invoice\.paid"
expect_count 1 "other  *cus_5"
expect_count 3 " >Queued"
expect_count 0 "cus_5.* >Queued"

echo "# n goes down (older), N up; no wrap at the ends"
keys n
expect_selected "cus_zebra_01"
expect_fixed "match 2 of 3 for 'ZEBRA'"
keys n
expect_selected "order\.created"
expect_fixed "match 3 of 3 for 'ZEBRA'"
keys n
expect_fixed "no more matches below (older)"
expect_selected "order\.created"
keys N
expect_selected "cus_zebra_01"
expect_fixed "match 2 of 3 for 'ZEBRA'"
keys N N
expect_fixed "no more matches above (newer)"
expect_selected "zebra\.seen"

echo "# a new message that matches is found at once"
send late cus_6 '{"zebra":true}'
expect "late  *cus_6"
keys N
expect_selected "late"
expect_fixed "match 1 of 4 for 'ZEBRA'"

echo "# two words: both must be there; a word's start, not its middle"
keys /
keys C-u
type_text "zebra 01"
keys Enter
expect_selected "cus_zebra_01"
expect_fixed "match 1 of 1"
keys /
keys C-u
type_text "ebra"
keys Enter
expect_fixed "no message matches 'ebra'"

echo "# under a filter (the status Queued shows them all; a customer only its own)"
keys Escape
expect_fixed "All messages"
keys C
type_text "cus_lion"
keys Enter
expect_fixed "Filter: customer=cus_lion"
keys /
type_text "zebra"
keys Enter
expect_fixed "Filter: customer=cus_lion  Search: zebra (n/N)"
expect_selected "order\.created"
expect_fixed "match 1 of 1 for 'zebra'"

echo "# Esc clears the search with the filter"
keys Escape
expect_fixed "All messages"
on_screen -e " >Queued" && fail "the marks outlived the search"

echo "# hookdesk logs --search finds the same messages, newest first"
out=$(hd logs --search zebra --format csv | tail -n +2 | cut -d, -f3 | tr '\n' ' ')
[ "$out" = "late zebra.seen refund order.created " ] || fail "logs --search zebra gave '$out'"
hd logs --search '...' >/dev/null 2>"$W/cli.err" && fail "a search without words was accepted"
grep -q "no word to look for" "$W/cli.err" || fail "no reason given: $(cat "$W/cli.err")"

keys q
expect_fixed "EXIT=0"
echo "ok"
