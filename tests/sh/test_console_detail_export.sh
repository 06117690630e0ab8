#!/bin/sh
# test_console_detail_export.sh - taking data out of the detail (issue #11,
# what operators missed 4): y puts the payload (or the response body on
# screen) on the terminal's clipboard with OSC 52 and says what and how big
# (tmux keeps it in a buffer with set-clipboard on); v shows it in $PAGER
# (payload pretty-printed, a body's escape sequences inert) and the console
# comes back; s saves it to a file of mode 0600, asking before it overwrites.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
# The pager: copies what it is given to a file the test reads.
PAGER_OUT=$(mktemp "${TMPDIR:-/tmp}/hd-pager.XXXXXX")
export PAGER="cat > $PAGER_OUT"
CONSOLE_CLEANUP_EXTRA='rm -f "$PAGER_OUT"'
. "$(dirname "$0")/console_common.sh"
$T set -g set-clipboard on

payload='{"order":{"id":42,"note":"hello"},"lines":[1,2]}'
printf '%s' "$payload" >"$W/p.json"
hd send --site ok --action export.one --payload "$W/p.json" >/dev/null
expect_fixed "1 Logs"
expect "export.one .*200  Done"
keys Enter
expect "^Message #1 "

echo "# y: the payload, as stored, on the clipboard; the footer says what and how big"
size=$(printf '%s' "$payload" | wc -c)
keys y
expect_fixed "copied the payload of #1 ($size bytes) to the clipboard (OSC 52)"
[ "$($T show-buffer)" = "$payload" ] || fail "clipboard: '$($T show-buffer)'"

echo "# v: the payload pretty-printed in \$PAGER; the console is back after it"
keys v
expect_fixed "showed the payload of #1 in cat > $PAGER_OUT"
expect "^Message #1 "
grep -q '^  "order": {$' "$PAGER_OUT" || { cat "$PAGER_OUT"; fail "the pager got no pretty payload"; }
grep -q '"note": "hello"' "$PAGER_OUT" || fail "the pager missed the note"
expect "^Status  *Done"   # the screen is redrawn, not left blank
expect_fixed "Esc Back"

echo "# s: a new file, mode 0600, the bytes as stored"
keys s
expect_fixed "Save the payload of #1 to: hookdesk-1-payload.json"
keys C-u
type_text "saved.json"   # the console runs in $W
keys Enter
expect_fixed "saved the payload of #1 ($size bytes) to saved.json (mode 0600)"
[ "$(cat "$W/saved.json")" = "$payload" ] || fail "saved: $(cat "$W/saved.json")"
[ "$(stat -c %a "$W/saved.json")" = 600 ] || fail "mode $(stat -c %a "$W/saved.json")"

echo "# s onto an existing file asks; n keeps it, y replaces it (mode 0600)"
echo precious >"$W/keep.txt"
chmod 644 "$W/keep.txt"
keys s
expect_fixed "Save the payload of #1 to:"
keys C-u
type_text "keep.txt"
keys Enter
expect_fixed "keep.txt exists: overwrite it? [y/N]"
keys n
expect_fixed "cancelled"
[ "$(cat "$W/keep.txt")" = precious ] || fail "overwritten without a yes"
keys s
keys C-u
type_text "keep.txt"
keys Enter
expect_fixed "exists: overwrite it?"
keys y
expect_fixed "saved the payload of #1"
[ "$(cat "$W/keep.txt")" = "$payload" ] || fail "not replaced: $(cat "$W/keep.txt")"
[ "$(stat -c %a "$W/keep.txt")" = 600 ] || fail "mode after replace $(stat -c %a "$W/keep.txt")"
echo "# a directory that cannot be written: the reason, nothing else"
keys s
keys C-u
type_text "/proc/nope.json"
keys Enter
expect "cannot save to /proc/nope.json: "

echo "# /: search the page; the response body on screen is what y takes then"
keys /
expect_fixed "Search this page:"
type_text "response body"
keys Enter
expect_fixed "match 1 of 1 for 'response body'"
keys y
expect_fixed "copied the response body of #1, attempt 1 (3 bytes) to the clipboard"
[ "$($T show-buffer)" = "ok" ] || fail "body clipboard: '$($T show-buffer)'"

echo "# a body full of escape sequences: raw on the clipboard, inert in the pager"
hd send --site esc --action export.esc >/dev/null
keys Escape
expect "export.esc .*200  Done"
keys g
keys Enter
expect "^Message #2 "
keys /
keys C-u
type_text "response body"
keys Enter
expect_fixed "match 1 of 1"
keys v
expect_fixed "showed the response body of #2, attempt 1 in"
grep -q '\^\[\[2J' "$PAGER_OUT" || { cat -v "$PAGER_OUT"; fail "the pager did not get the escapes as text"; }
if grep -q "$(printf '\033')" "$PAGER_OUT"; then fail "a raw ESC reached the pager"; fi
keys y
expect_fixed "copied the response body of #2, attempt 1"
$T show-buffer | grep -q "$(printf '\033')\[2J" || fail "the clipboard lost the body's bytes"
echo "# a terminal without clipboard access (no Ms in its terminfo: screen) is told so"
$T set-buffer "before"
$T new-session -d -s noclip -x 80 -y 24 \
    "cd $W && TERM=screen '$HD' -c '$W/hd.yaml' --no-deliver 2>/dev/null; sleep 60"
end=$(($(date +%s) + 10))
until $T capture-pane -p -t noclip | grep -q "export.esc"; do
    [ "$(date +%s)" -ge "$end" ] && fail "the second console did not start"
    sleep 0.05
done
$T send-keys -t noclip Enter
$T send-keys -t noclip y
end=$(($(date +%s) + 10))
until $T capture-pane -p -t noclip | grep -qF "TERM=screen takes no clipboard (OSC 52): nothing copied"; do
    [ "$(date +%s)" -ge "$end" ] && { $T capture-pane -p -t noclip; fail "no word about the clipboard"; }
    sleep 0.05
done
[ "$($T show-buffer)" = "before" ] || fail "something reached the clipboard"
echo "ok"
