#!/bin/sh
# test_console_mouse.sh - the mouse in a real terminal (tmux, 80x24): a click
# on a screen tab switches screens, a click on a row selects it (Enter then
# opens that message), and the wheel moves the selection.
#
# tmux only forwards mouse events from a real client, so the test types the
# bytes a terminal sends for them: xterm's X10 encoding "ESC [ M b x y"
# (each byte 32 + value, 1-based cells), which the pane's terminal type
# (tmux-256color, kmous=\E[M) announces to ncurses.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
. "$(dirname "$0")/console_common.sh"

# mouse BUTTON COL ROW (1-based): press, and release for a click.
mouse() {
    b=$(printf "\\$(printf '%03o' $((32 + $1)))")
    x=$(printf "\\$(printf '%03o' $((32 + $2)))")
    y=$(printf "\\$(printf '%03o' $((32 + $3)))")
    $T send-keys -t hd -l "$(printf '\033[M')$b$x$y"
}
click() {
    mouse 0 "$1" "$2"
    mouse 3 "$1" "$2"
}
wheel_down() { mouse 65 "$1" "$2"; }
wheel_up() { mouse 64 "$1" "$2"; }

expect_fixed "1 Logs"
for a in mouse.one mouse.two mouse.three mouse.four mouse.five; do
    hd send --site ok --action "$a" >/dev/null || fail "send failed"
done
expect "mouse\.one.*Done"
expect "mouse\.five.*Done"

echo "# a click on the '3 Sites' tab switches to the Trusted sites screen"
TAB=$(screen | head -n 1 | awk '{ print index($0, "3 Sites") }')
[ "$TAB" -gt 0 ] || fail "no '3 Sites' tab in the header"
click $((TAB + 2)) 1
expect_fixed "trusted sites."
TAB=$(screen | head -n 1 | awk '{ print index($0, "1 Logs") }')
click $((TAB + 2)) 1
expect_fixed "All messages"

echo "# a click on a row selects it: Enter opens that message"
ROW=$(screen | grep -n "mouse\.one" | head -n 1 | cut -d: -f1)
[ -n "$ROW" ] || fail "mouse.one is not on the screen"
click 5 "$ROW"
keys Enter
expect_fixed "Message #1 "
keys Escape
expect_fixed "All messages"

echo "# the wheel moves the selection three rows a notch"
TOP=$(screen | grep -n "mouse\.five" | head -n 1 | cut -d: -f1)
click 5 "$TOP"
wheel_down 5 "$TOP"
keys Enter
expect_fixed "Message #2 "
keys Escape
expect_fixed "All messages"
wheel_up 5 "$TOP"
keys Enter
expect_fixed "Message #5 "
keys Escape

echo "# a click while a yes/no question is open does nothing under it"
keys r
expect_fixed "Resend message #5 "
TAB=$(screen | head -n 1 | awk '{ print index($0, "3 Sites") }')
click $((TAB + 2)) 1
wheel_down 5 "$TOP"
# Events are handled in order: once n has answered the question, the click
# and the wheel before it have been handled too.
keys n
expect_fixed "cancelled"
on_screen -F "trusted sites." && fail "a click switched screens under the question"
keys Enter
expect_fixed "Message #5 "
keys Escape

keys q
expect_fixed "EXIT=0"
echo "ok"
