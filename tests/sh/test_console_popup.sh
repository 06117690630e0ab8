#!/bin/sh
# test_console_popup.sh - the site-test popup at 80 columns (issue #11,
# defect 6): it shows the request line as `hookdesk sites test` does, long
# header lines wrap inside it instead of being cut, and it scrolls with
# j/k, PgUp/PgDn, Space, g/G and Home/End, down to its last line and no
# further.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
. "$(dirname "$0")/console_common.sh"
# The receiver's port is known only now: add the site through the CLI.
hd sites add wide2 --url "http://127.0.0.1:$PORT/manyheaders/30" >/dev/null ||
    fail "sites add"

expect_fixed "1 Logs"
keys 3
expect_fixed "trusted sites."
expect "^wide2 "
# Select wide2 (the last one by name) and test it.
keys G
expect "^wide2  max in flight"
keys t
expect_fixed "Test of wide2: OK"
echo "# the request line, as the CLI prints it"
expect "x POST http://127.0.0.1:$PORT/manyheaders/30 "

echo "# j down to the response headers: a 107-column header wraps, all of it shown"
keys j j j j j j j
expect_fixed "X-Filler-0: "
row=$(grep -n "X-Filler-0: " "$W/screen" | head -1 | cut -d: -f1)
v1=$(sed -n "${row}p" "$W/screen" | tr -cd v | wc -c)
v2=$(sed -n "$((row + 1))p" "$W/screen" | tr -cd v | wc -c)
[ $((v1 + v2)) -eq 95 ] || fail "X-Filler-0's 95 v's are not all shown ($v1 + $v2)"
sed -n "$((row + 1))p" "$W/screen" | grep -q "x vvvv*  *x" ||
    fail "the wrapped part is not on the next row of the popup"

echo "# G: the last line (the body) at the bottom; j goes no further"
keys G
expect "x ok  *x"
expect_fixed "X-Filler-29: "
keys j
keys_mark
keys j j
keys_settled 2
on_screen -e "x ok  *x" || fail "j scrolled past the end"
echo "# Home / g: the request line again; PgDn and Space page down, PgUp back"
keys Home
expect "x POST http://"
keys PPage   # already at the top: nothing moves
expect "x POST http://"
keys_mark
keys NPage
keys_settled 1
on_screen -e "x POST http://" && fail "PgDn did not scroll"
expect_fixed "X-Filler-"
keys PPage
expect "x POST http://"
keys_mark
keys Space
keys_settled 1
on_screen -e "x POST http://" && fail "Space did not scroll"
keys g
expect "x POST http://"
keys End
expect "x ok  *x"
keys Escape
expect_fixed "trusted sites."
on_screen -F "Test of wide2" && fail "Esc did not close the popup"
echo "ok"
