#!/bin/sh
# test_console_detail_chain.sh - following a resend chain (issue #11, what
# operators missed 6): Logs marks a message that was resent (`*` after its
# status without UTF-8); in the detail "Resend of #1" and "Resent as #3" are
# links: Enter (or l, Right, a click) opens the linked message, Tab picks the
# next link, Back returns to the message the link was followed from, then to
# the list.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
CONSOLE_DELIVERY_EXTRA="  breaker: {failures: 0}"
. "$(dirname "$0")/console_common.sh"

echo "# a message to the 500 site fails; r resends it as #2"
hd send --site bad --action chain.link >/dev/null
expect_fixed "1 Logs"
expect "chain.link .*500  Failed *$"
on_screen -e 'Failed\*' && fail "a message never resent was marked"
keys r
expect_fixed "Resend message #1"
keys y
expect_fixed "message #1 resent as #2"
echo "# #1 is marked as resent in the list; #2 is not (yet)"
expect_count 2 "chain.link"
expect_count 1 'Failed\*'

echo "# #2 fails too and is resent from its detail as #3"
expect_count 2 "chain.link .*Failed"
keys g
keys Enter
expect "^Message #2 "
expect "^Resend of    #1$"
keys r
expect_fixed "Resend message #2"
keys y
expect_fixed "message #2 resent as #3"
expect "^Resent as    #3$"

echo "# the focused link is in reverse video, the other one underlined"
$T capture-pane -p -e -t hd | grep -q "Resend of    $(printf '\033')\[7m#1" ||
    fail "the focused link is not highlighted"
$T capture-pane -p -e -t hd | grep -q "Resent as    $(printf '\033')\[[0-9;]*4m#3" ||
    fail "the other link is not underlined"
echo "# Enter follows the focused link (Resend of #1); the detail of #1 shows its resend"
keys Enter
expect "^Message #1 "
expect "^Resent as    #2$"
on_screen -e "^Resend of" && fail "#1 is no resend"
echo "# Back returns to #2, where the link was followed from"
keys Escape
expect "^Message #2 "
echo "# Tab picks the next link (Resent as #3), l follows it"
keys Tab
keys l
expect "^Message #3 "
expect "^Resend of    #2$"
echo "# Back, Back: #2, then the list"
keys Escape
expect "^Message #2 "
keys Escape
expect_fixed "All messages, newest first."
echo "# both resent Failed messages are marked, the last one is not"
expect_count 3 "chain.link .*Failed"
expect_count 2 'Failed\*'

echo "# a click on a link opens it; Right follows a link too"
keys j
keys Enter
expect "^Message #2 "
line=$(grep -n "^Resent as" "$W/screen" | cut -d: -f1)
[ -n "$line" ] || fail "no Resent as line"
# xterm's X10 mouse bytes, as test_console_mouse.sh types them: press, release
for b in 0 3; do
    $T send-keys -t hd -l "$(printf '\033[M')$(printf "\\$(printf '%03o' $((32 + b)))")$(printf "\\$(printf '%03o' $((32 + 16)))")$(printf "\\$(printf '%03o' $((32 + line)))")"
done
expect "^Message #3 "
keys Escape
expect "^Message #2 "
echo "# the link followed last stays focused: Right opens #3 again; Tab then wraps to #1"
keys Right
expect "^Message #3 "
keys Escape
expect "^Message #2 "
keys Tab
keys Right
expect "^Message #1 "
keys Escape

echo "# a message without links: Enter says so, Tab still switches screens"
expect "^Message #2 "
keys Escape
keys g
keys Enter
expect "^Message #3 "
keys Escape
keys Escape
expect_fixed "All messages, newest first."
hd send --site ok --action plain.one >/dev/null
expect "plain.one .*Done"
keys g
keys Enter
expect "^Message #4 "
keys Enter
expect_fixed "no links here"
keys Tab
expect "^Pending messages"
echo "ok"
