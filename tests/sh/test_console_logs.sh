#!/bin/sh
# test_console_logs.sh - the console in a real terminal (tmux, 80x24): rows
# appear and change status live while a real receiver answers, status filter
# and the `&` action filter (`/` search: test_console_search.sh), the detail view (payload, attempts, an escape-laden body
# shown inert), resend one and resend-all, live resize 80x24 -> 200x50 -> 80x24,
# and `q` quitting with exit code 0 and the terminal restored.
#
# Every check polls the screen every 50 ms until it holds or 10 s pass, and
# prints the screen when it does not (fzf's way): no fixed sleeps.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC   # UTC: typed dates show as typed
# The circuit breaker off: the /status/500 site's messages (one, then its
# resend) go through all their attempts, retry_interval apart, as without
# isolation; test_console_isolation.sh covers the breaker.
CONSOLE_DELIVERY_EXTRA='  breaker: {failures: 0}'
. "$(dirname "$0")/console_common.sh"

echo "# console starts on the Logs screen"
expect_fixed "No messages yet"
expect_fixed "1 Logs"

echo "# a CLI send from outside shows, then turns Done (live)"
printf '{"order":{"id":42,"total":"19.99"}}' >"$W/p.json"
hd send --site ok --action order.created --customer cus_001 --payload "$W/p.json" >/dev/null ||
    fail "send failed"
t0=$(date +%s)
expect "order\.created.*cus_001.*ok.*200.*Done"
[ $(($(date +%s) - t0)) -le 3 ] || fail "a delivered message took more than 3 s to show Done"

echo "# a /status/500 site ends Failed after 3 attempts"
hd send --site bad --action invoice.paid --customer cus_002 >/dev/null || fail "send failed"
expect "invoice\.paid.*cus_002.*bad.*500.*Failed"
hd send --site esc --action evil.body --customer cus_003 >/dev/null || fail "send failed"
expect "evil\.body.*Done"
expect_fixed "Done 2"
expect_fixed "Failed 1"
ESC=$(printf '\033')
$T capture-pane -p -e -t hd | grep -q "$ESC\[[0-9;]*32m.*Done" ||
    fail "Done is not drawn in green"

echo "# status filter (s cycles any -> queued -> resent -> done -> failed)"
keys s s s s
expect_fixed "Filter: status=failed"
expect_count 1 "invoice\.paid"
expect_count 0 "order\.created"
keys Escape
expect_fixed "All messages"
expect_count 1 "order\.created"

echo "# & filters by the action text (the prompt edits as the form's fields do)"
keys '&'
expect_fixed "Filter action:"
type_text "oder"
keys Left Left Left
type_text "r"
keys Enter
expect_fixed "Filter: action~order"
expect_count 0 "invoice\.paid"
expect_count 1 "order\.created"

echo "# Enter opens the detail: pretty payload and the attempts"
keys Enter
expect_fixed '"total": "19.99"'
expect_fixed "Attempts (1)"
# The "Retries  0 (1 attempt)" field is a plain line, only the section
# titles are bold.
expect "Retries  *0 (1 attempt)"
$T capture-pane -p -e -t hd | grep -q "$ESC\[1m.*Attempts (1)" ||
    fail "the Attempts (N) section title is not bold"
$T capture-pane -p -e -t hd | grep "Retries  *0 (1 attempt)" | grep -q "$ESC\[1m" &&
    fail "the Retries field line is drawn as a section title"
expect "^  1 .* ms *200"
keys Space   # scrolls a page down
expect_fixed "Attempt 1: request headers"
expect_fixed "webhook-id: msg_"
keys Escape
expect_fixed "Filter: action~order"

echo "# c shows every message of the row's customer, whatever the other filters"
keys Escape
expect_fixed "All messages"
keys s s s s
expect_fixed "Filter: status=failed"
expect_count 1 "invoice\.paid.*cus_002"
keys g
keys c
expect_fixed "Filter: customer=cus_002   (Esc clears)"
expect_count 0 "order\.created"
keys Escape

echo "# f filters by trusted site, t by time range; an unknown site is refused"
keys f
expect_fixed "Trusted site (Tab lists, empty = any):"
type_text "nosuchsite"
keys Enter
expect "nosuchsite"
expect_fixed "All messages"
keys f
type_text "bad"
keys Enter
expect_fixed "Filter: site=bad"
on_screen -F "nosuchsite" && fail "the earlier 'not found' message outlived the next answer"
expect_count 1 "invoice\.paid"
expect_count 0 "order\.created"
keys t
expect_fixed "Time range"
type_text "1h"
keys Enter
expect_fixed "Filter: site=bad since 20"
expect_count 1 "invoice\.paid"
keys t
expect "Time range.*: 20[0-9-]* [0-9:]*\.\."   # the active range, prefilled
keys C-u
type_text "..2001-01-01"
keys Enter
expect_fixed "until 2001-01-01"
expect_fixed "No message matches the filter."
keys Escape
expect_fixed "All messages"

echo "# a response body full of escapes is shown inert"
keys '&'
type_text "evil"
keys Enter
expect_fixed "Filter: action~evil"
keys Enter
expect_fixed "Attempts (1)"
keys G
expect_fixed "^[]0;pwned title^G"
expect_fixed "^[[31mred^[[0m"
TITLE1=$($T display -p -t hd '#{pane_title}')
[ "$TITLE1" = "$TITLE0" ] || fail "the pane title changed to '$TITLE1'"
expect_fixed "1 Logs"   # the screen was not cleared or switched by the body
keys Escape Escape
expect_fixed "All messages"

echo "# r resends one message (confirmed), a new row appears"
keys '&'
type_text "invoice"
keys Enter
expect_count 1 "invoice\.paid"
keys r
expect_fixed "Resend message #"
keys y
expect_count 2 "invoice\.paid"
expect_count 2 "invoice\.paid.*Failed"

echo "# R resends every Failed message under the filter not resent yet, with the count"
keys R
# Two Failed rows, but the original was resent by hand just above: one to go.
expect_fixed "Resend all 1 Failed messages under the current filter?"
keys y
expect_count 3 "invoice\.paid"
expect_count 3 "invoice\.paid.*Failed"
[ "$(hd logs --status failed --format csv | tail -n +2 | wc -l)" -eq 3 ] ||
    fail "the CLI does not see 3 Failed messages"
echo "# R again offers only the newest Failed one (its own resend), not all three"
keys R
expect_fixed "Resend all 1 Failed messages under the current filter?"
keys n
keys Escape

echo "# live resize 80x24 -> 200x50 -> 80x24"
$T resize-window -t hd -x 200 -y 50
expect "^[0-9][0-9]*  *2026-[0-9-]* [0-9:]* *order\.created"   # wide: the year shows
[ "$(screen | wc -L)" -gt 100 ] || fail "the screen did not grow"
$T resize-window -t hd -x 80 -y 24
expect "^[0-9][0-9]*  *[0-9][0-9]-[0-9][0-9] [0-9:]* *order\.created"
[ "$(screen | wc -L)" -le 80 ] || fail "a line is wider than 80 columns"

echo "# ? shows the help generated from the keymaps"
keys '?'
expect_fixed "Keys on the Logs screen"
expect_fixed "Resend all Failed under the filter"
keys G   # the end of the help (it is longer than 24 rows), and no further
expect_fixed "Reload and redraw"
keys_mark
keys j j j j j j j j j j
keys_settled 10
on_screen -F "Reload and redraw" || fail "j scrolled the help past its end"
keys g
expect_fixed "Keys on the Logs screen"
keys Escape
expect_fixed "All messages"

echo "# a long one-line response body is wrapped in the detail, not cut"
hd sites add long --url "http://127.0.0.1:$PORT/huge/300" >/dev/null || fail "sites add long failed"
hd send --site long --action long.body >/dev/null || fail "send failed"
keys '&'
type_text "long.body"
keys Enter
expect "long\.body.*Done"
keys Enter G
# 300 letters a..z at 80 columns, indent 2: four lines of 78, 78, 78, 66,
# each starting at an 'a' (78 = 3 x 26).
expect_count 4 "^  abcdefghijklmnopqrstuvwxyz"
keys Escape Escape Escape
expect_fixed "All messages"

echo "# q quits: exit code 0, terminal restored"
keys q
expect_fixed "EXIT=0"
expect "^icanon$"
expect "^echo$"
on_screen -F -e "1 Logs" && fail "the console screen was left on the terminal"
echo "ok"
