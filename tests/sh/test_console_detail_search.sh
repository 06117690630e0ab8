#!/bin/sh
# test_console_detail_search.sh - searching inside the detail (issue #11,
# what operators missed 4): `/` finds text anywhere on the page (case
# insensitive), scrolls to a match below the screen, highlights the current
# match (reverse video) and the others (bold); n / N go to the next /
# previous match, round the ends, and the footer counts them.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
. "$(dirname "$0")/console_common.sh"

# A payload of 40 lines once pretty-printed: the needles are far below the
# first screen (one near the end, one in the middle, one in a key).
{
    printf '{'
    i=1
    while [ $i -le 40 ]; do
        case $i in
        20) printf '"k%02d":"a Needle here",' $i ;;
        38) printf '"k%02d":"the last needle",' $i ;;
        *) printf '"k%02d":"filler",' $i ;;
        esac
        i=$((i + 1))
    done
    printf '"needle_key":0}'
} >"$W/long.json"
hd send --site ok --action search.one --payload "$W/long.json" >/dev/null
expect_fixed "1 Logs"
expect "search.one .*Done"
keys Enter
expect "^Message #1 "
on_screen -F "needle" && fail "the needles should start below the screen"

# The line of the screen holding the current (reverse video) match.
current_match() {
    $T capture-pane -p -e -t hd | grep -n "$(printf '\033')\[7m$1" | head -1
}

echo "# / finds the first match below, scrolls to it and highlights it"
keys /
expect_fixed "Search this page:"
type_text "NEEDLE"
keys Enter
expect_fixed "match 1 of 3 for 'NEEDLE'"
expect_fixed '"k20": "a Needle here"'
current_match Needle >/dev/null || fail "the current match is not in reverse video"

echo "# n: the next match (in another line further down); the first is no longer current"
keys n
expect_fixed "match 2 of 3"
expect_fixed '"k38": "the last needle"'
current_match needle >/dev/null || fail "match 2 not highlighted"
$T capture-pane -p -e -t hd | grep -q "$(printf '\033')\[1mneedle" ||
    fail "another match on screen is not highlighted (bold)"
keys n
expect_fixed "match 3 of 3"
expect_fixed '"needle_key": 0'
echo "# n at the last match goes round to the first, and says so"
keys n
expect_fixed "match 1 of 3 for 'NEEDLE' (from the top)"
echo "# N goes back round to the last"
keys N
expect_fixed "match 3 of 3 for 'NEEDLE' (from the bottom)"
echo "# g goes to the top (the match stays current); n goes on from it, round to the first"
keys g
expect "^Message #1 "
keys n
expect_fixed "match 1 of 3"
expect_fixed '"k20": "a Needle here"'
echo "# text that is not there"
keys /
keys C-u
type_text "nowhere-to-be-found"
keys Enter
expect_fixed "not found: nowhere-to-be-found"
echo "ok"
