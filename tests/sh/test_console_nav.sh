#!/bin/sh
# test_console_nav.sh - finding one's way in the console (issue #11, what
# operators missed): "row N of M" under the active filter on Logs and Queue,
# the ID column in Logs and Action in the Queue at 80 and 120 columns, ^D/^U
# half pages and ^N/^P, the prompts' history (Up/Down recall earlier
# answers of that prompt) and line editing, and `#` / `:` to find a message
# by its number or its webhook-id from any screen.
#
# A watching console (--no-deliver): the 60 messages stay Queued, so every
# row number is known in advance (id k is row 61 - k).  Every check polls
# the screen (50 ms, 10 s at most) and prints it when it fails.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
CONSOLE_ARGS=--no-deliver
. "$(dirname "$0")/console_common.sh"

i=1
while [ $i -le 60 ]; do
    if [ $((i % 5)) -eq 0 ]; then act=invoice.paid; else act=order.created; fi
    echo "{\"site\":\"ok\",\"action\":\"$act\",\"customer\":\"cus_$i\",\"payload\":{\"n\":$i}}"
    i=$((i + 1))
done >"$W/m.jsonl"
hd import "$W/m.jsonl" >/dev/null || fail "import failed"

echo "# Logs: an ID column and where the selection is"
expect_fixed "1 Logs"
expect "row 1 of 60$"
expect "^ID  *Created at  *Action  *Customer  *Trusted site  *Code  *Status"
expect "^60 .* invoice.paid  *cus_60  *ok  *-  *Queued"

echo "# ^D / ^U: half a page (19 rows: 10); ^N / ^P: a row"
keys C-d
expect "row 11 of 60$"
keys C-d C-d C-d C-d C-d
expect "row 60 of 60$"
keys C-u
expect "row 50 of 60$"
keys g C-n C-n C-n
expect "row 4 of 60$"
keys C-p
expect "row 3 of 60$"
keys G
expect "row 60 of 60$"
keys k PPage
expect "row 40 of 60$"
keys g

echo "# under a filter: the rows it shows"
keys '&'
expect_fixed "Filter action: "
type_text "invoice"
keys Enter
expect "row 1 of 12$"
keys C-n C-n
expect "row 3 of 12$"
keys Escape
expect "row 1 of 60$"

echo "# the action prompt remembers: Up / Down, and it is a line editor"
keys '&'
expect_fixed "Filter action: "
type_text "order"
keys Enter
expect "row 1 of 48$"
keys Escape
expect "row 1 of 60$"
keys '&'
expect_fixed "Filter action: "
type_text "draft"
keys Up
expect "Filter action: order *$"
keys Up
expect "Filter action: invoice *$"
keys Up   # nothing older: stays
expect "Filter action: invoice *$"
keys Down
expect "Filter action: order *$"
keys Down
expect "Filter action: draft *$"
keys C-a Right Right C-k   # ^A, cursor keys, ^K
expect "Filter action: dr *$"
keys C-e
type_text "+x y"
keys C-w   # the word before the cursor
expect "Filter action: dr+x *$"
keys C-u
expect "Filter action:  *$"
keys C-g
expect "row 1 of 60$"
# Another prompt keeps its own answers: the customer prompt has none.
keys C
expect_fixed "Customer (empty = any): "
keys Up
expect "Customer (empty = any):  *$"
keys C-g

echo "# find by number, from the Queue; Back returns there"
keys 2
expect_fixed "2 Queue"
expect "^ID  *Action  *Customer  *Trusted site  *Retries  *Status  *Next"
expect "row 1 of 60$"
keys '#'
expect_fixed "Find message (number or webhook-id msg_...): "
type_text "7"
keys Enter
expect "^Message #7 "
expect "^Customer  *cus_7 *$"
keys Escape
expect "^ID  *Action  *Customer"

echo "# find by webhook-id (what a receiver reports), from Sites"
wid=$(hd show 9 --format json | sed -n 's/.*"webhook_id": *"\(msg_[a-z0-9]*\)".*/\1/p')
[ -n "$wid" ] || fail "no webhook id for message 9: $(hd show 9 --format json)"
keys 3
expect_fixed "3 trusted sites"
keys :
expect_fixed "Find message"
type_text "$wid"
keys Enter
expect "^Message #9  *$wid"
keys Escape
expect_fixed "3 trusted sites"

echo "# not found: a clear message, the screen stays"
keys '#'
type_text "9999"
keys Enter
expect_fixed "no message #9999"
keys '#'
type_text "msg_zzzzzzzzzzzzzzzzzzzzzzzzzz"
keys Enter
expect "no message has webhook-id msg_z\|neither a message number nor a webhook-id"
expect_fixed "3 trusted sites"

echo "# 120 columns: the whole time, every column sized to what it holds"
$T resize-window -t hd -x 120 -y 30
keys 1
expect "^ID  *Created at  *Action  *Customer  *Trusted site  *Code  *Status"
expect "^60 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:]* invoice.paid  *cus_60  *ok  *-  *Queued"
expect "row 1 of 60$"
echo "all checks passed"
