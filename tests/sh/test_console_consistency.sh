#!/bin/sh
# test_console_consistency.sh - issue #11 defect 7, the console agreeing with
# itself and with the CLI: a time range's date-only end includes its day and
# a date alone is that day; "no code" is "-" on every screen and in the CLI;
# `g` on Sites is not described as "newest"; `C` in the detail asks for a
# customer (as the README says); the detail's Retries is the Queue's and the
# CLI's (attempts after the first); after Ctrl-C the footer names Ctrl-C
# too, and says "1 in-flight attempt".
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC
CONSOLE_DELIVERY_EXTRA="  breaker: {failures: 0}"
. "$(dirname "$0")/console_common.sh"
# Sites the common configuration does not have (added through the CLI: the
# configuration's sites are only seeded into an empty database).
hd sites add closed --url http://127.0.0.1:9/nothing-listens >/dev/null || fail "sites add closed"
hd sites add aaa-many --url "http://127.0.0.1:$PORT/manyheaders/40" >/dev/null ||
    fail "sites add aaa-many"
hd sites add slow --url "http://127.0.0.1:$PORT/delay/6000" --timeout 10s >/dev/null ||
    fail "sites add slow"

TODAY=$(date -u +%Y-%m-%d)
YESTERDAY=$(date -u -d yesterday +%Y-%m-%d)
hd send --site ok --action today.one --customer cus_today >/dev/null
hd send --site closed --action nocode.one --customer cus_nocode >/dev/null

echo "# time range: a date alone is that day; a date-only end includes its day"
expect_fixed "1 Logs"
expect_count 1 "today\.one.*Done"
keys t
expect_fixed "Time range"
type_text "..$TODAY"
keys Enter
expect_fixed "until $TODAY"
expect_count 1 "today\.one"      # was excluded: the end meant 00:00 of that day
keys t
keys C-u
type_text "$YESTERDAY..$TODAY"
keys Enter
expect_fixed "since $YESTERDAY until $TODAY"
expect_count 1 "today\.one"
keys t
expect "Time range.*: $YESTERDAY\.\.$TODAY"   # prefilled as typed
keys C-u
type_text "$YESTERDAY"
keys Enter
expect_fixed "since $YESTERDAY until $YESTERDAY"
expect_fixed "No message matches the filter."   # was "since yesterday": today's showed
keys t
keys C-u
type_text "$TODAY"
keys Enter
expect_count 1 "today\.one"
keys Escape
expect_fixed "All messages"

echo "# no code: '-' in the Logs, the detail and the CLI (it was '---', '-', 'code: 0')"
expect "nocode\.one  *cus_nocode  *closed  *- *Failed"
hd logs --action nocode --limit 1 | grep -q "closed  *-  *Failed" || fail "the CLI does not say '-'"
keys /
type_text "nocode"
keys Enter
expect_count 1 "nocode\.one"
keys Enter
expect "^  1  .* ms  *-  *Failed to connect"
on_screen -e "---" && fail "'---' in the detail"
echo "# long errors wrap in the detail instead of being cut at 80 columns (defect 6)"
expect "^Last error   Failed to connect to 127.0.0.1 port 9 after"
expect "^ \{13\}[a-z].*server *$"                  # the rest, under the value
expect "^ \{43\}after [0-9]* ms: Couldn't connect"  # under the Error column, at a word
on_screen -F "…" && fail "an error is still cut"

echo "# C in the detail asks for a customer and shows the Logs of it"
keys C
expect_fixed "Customer: cus_nocode"
keys C-u
type_text "cus_today"
keys Enter
expect_fixed "Filter: customer=cus_today"
expect_count 1 "today\.one"
keys Escape

echo "# ? on Sites: g and G are first / last line, not newest / oldest"
keys 3
expect "^closed "
keys ?
expect_fixed "Keys on the Sites screen"
keys G   # the generic keys are at the end
expect "G, End  *Last line *$"
on_screen -e "First line *$" || fail "g is not 'First line' on Sites"
on_screen -F "newest" && fail "the Sites help calls the first line the newest"
keys Escape
expect "^closed "

echo "# the site-test popup: the request line as the CLI shows it; it scrolls"
echo "# with PgDn/PgUp, Space, g/G and Home/End (issue #11 defect 6)"
keys g   # aaa-many is the first site
expect "aaa-many "
keys t
expect_fixed "Test of aaa-many: OK"
expect_fixed "POST http://127.0.0.1:$PORT/manyheaders/40"
expect "HTTP 200 in [0-9]* ms"
keys G
expect_fixed "X-Filler-39: v"
on_screen -F "POST http://" && fail "G did not scroll the popup to its end"
keys g
expect_fixed "POST http://127.0.0.1"
keys_mark
keys PgDn
keys_settled 1
on_screen -F "POST http://" && fail "PgDn did not scroll the popup"
keys PgUp
expect_fixed "POST http://127.0.0.1"
keys_mark
keys Space
keys_settled 1
on_screen -F "POST http://" && fail "Space did not scroll the popup"
keys Home
expect_fixed "POST http://127.0.0.1"
keys End
expect_fixed "X-Filler-39: v"
keys Escape
expect "^closed "

echo "# Retries: one word, one number on the Queue, the detail and the CLI (the"
echo "# detail said 'Attempts 2' where the Queue said 'Retries 1')"
hd sites add later --url "http://127.0.0.1:$PORT/retryafter/503/60" >/dev/null ||
    fail "sites add later"
hd send --site later --action later.one >/dev/null
keys 2
expect "later\.one .* later  *0  *Resent  *in [0-9]*s (Retry-After)"
keys s                          # send now: a second attempt, again told to wait
expect "later\.one .* later  *1  *Resent  *in [0-9]*s (Retry-After)"
hd queue | grep -q "later  *1  *Resent" || fail "the CLI's RETRIES is not 1: $(hd queue)"
keys Enter
expect "^Retries  *1 (2 attempts)$"
expect_fixed "Attempts (2)"
on_screen -e "^Attempts  *[0-9]" && fail "the detail still has an Attempts field beside Retries"
keys Escape
keys 3
expect "^closed "

echo "# Ctrl-C with an attempt in flight: the footer names Ctrl-C and the count"
hd send --site slow --action slow.one >/dev/null
expect_fixed "1 in flight"
# Ctrl-C is SIGINT to the console (tmux's C-c would also stop the shell
# around it): sent to the console's process, a child of the pane's shell.
CONSOLE_PID=$(pgrep -P "$($T display -p -t hd '#{pane_pid}')" -x hookdesk)
[ -n "$CONSOLE_PID" ] || fail "no console process found"
kill -INT "$CONSOLE_PID"
expect_fixed "finishing 1 in-flight attempt... (q or Ctrl-C again: release them now)"
on_screen -F "1 in-flight attempts" && fail "'1 in-flight attempts'"
kill -INT "$CONSOLE_PID"
expect "EXIT=[0-9]"
echo "ok"
