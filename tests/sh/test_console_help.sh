#!/bin/sh
# test_console_help.sh - the `?` overlay in a real terminal (tmux, 80x24):
# opened from the Trusted sites screen it lists the add/edit form's keys
# (its keymap and the raw editing keys, generated from their tables), it
# scrolls to its last line and no further, and Esc closes it.  F1 in the
# form shows the form's keys and not the screen keys it takes as text.
#
# Every check polls the screen every 50 ms until it holds or 10 s pass, and
# prints the screen when it does not (fzf's way).
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
. "$(dirname "$0")/console_common.sh"

# body_line N: line N of the screen (1-based).
body_line() { screen | sed -n "${1}p"; }
# expect_line N REGEX: screen line N matches (polled).
expect_line() {
    end=$(($(date +%s) + 10))
    while :; do
        body_line "$1" | grep -q -e "$2" && return 0
        [ "$(date +%s)" -ge "$end" ] && fail "expected line $1 to match /$2/"
        sleep 0.05
    done
}

echo "# ? on the Trusted sites screen lists the add/edit form's keys"
expect_fixed "1 Logs"
keys 3
expect_fixed "3 trusted sites"
keys '?'
expect_fixed "Keys on the Sites screen"
expect "^  a  *Add a trusted site"
expect_fixed "In the add/edit form (a, e, Enter)"
expect "^  Tab, Down  *Next field"
expect "^  S-Tab, Up  *Previous field"
expect "^  Enter  *Next field (on Save: save)"
expect "^  ^S, F2  *Save the form"
expect "^  Esc  *Cancel: close the form, nothing saved"
expect "^  Left, Right  *Move the cursor"
expect "^  Home, ^A  *Cursor to the start"
expect "^  End, ^E  *Cursor to the end"
expect "^  Bksp, ^H  *Delete the character before"
expect "^  Del, ^D  *Delete the character under"
expect "^  ^U  *Cut everything before the cursor"
# help after column 26, keys in a 22-column cell from column 2
screen | grep -q '^  ^U                      Cut' || fail "the key cell is not 22 columns"

echo "# scrolling: PgDn shows the rest, G reaches the last line and stops there"
keys PageDown
expect "^  ^K  *Cut from the cursor to the end"
expect "^  Space, Right, l  *Next choice"
expect "^  Left, h  *Previous choice"
expect "^  Space  *On the Save button: save"
keys G
# 80x24: two header rows, the body, the footer on row 24.  The help's last
# line is on the body's last row, just above the footer.
expect_line 23 "^  Alt-d  *Delete the word after the cursor"
expect_line 24 "Esc Back"
# The prompts' keys end the help: their history, then the line editor's.
expect_fixed "In a prompt (/ search, f, t, C filters, # find)"
expect "^  Up, Down, ^P, ^N  *Earlier / later answers to this prompt"
keys_mark
keys j j j j j PageDown End
keys_settled 7
expect_line 23 "^  Alt-d  *Delete the word after the cursor"
keys k   # one line back up: the last line leaves the bottom row
expect_line 23 "^  Alt-Bksp, ^W  *Delete the word before the cursor"
keys j
expect_line 23 "^  Alt-d  *Delete the word after the cursor"
keys g
expect_line 3 "^Keys on the Sites screen"

echo "# Esc closes it"
keys Escape
expect_fixed "3 trusted sites"
on_screen -F "In the add/edit form" && fail "the help is still open after Esc"

echo "# F1 in the form: its keys, not the screen keys it takes as text"
keys a
expect_fixed "Add a trusted site"
type_text "abc"
keys F1
expect_fixed "Keys on the Site form screen"
expect "^  ^S, F2  *Save the form"
expect "^  ^U  *Cut everything before the cursor"
on_screen -e "^  q  *Quit" && fail "q is listed, but the form takes it as text"
on_screen -e "^  1  *Logs screen" && fail "1 is listed, but the form takes it as text"
keys Escape
expect_fixed "Add a trusted site"
expect "^ Name  *abc"

echo "# PgDn in the form goes to Save: Enter there saves (and says what is wrong)"
keys PageDown Enter
expect_fixed "not saved: "
keys Escape   # the form was changed (abc typed): Esc asks first
expect_fixed "Discard your changes to the new site? [y/N]"
keys y
expect_fixed "3 trusted sites"
hd sites list | grep -q "^abc" && fail "an invalid site was saved"

echo "# q quits"
keys q
expect_fixed "EXIT=0"
echo "ok"
