#!/bin/sh
# test_console_picker.sh - the site picker (issue #11, what operators missed
# 5): in the `f` prompt Tab completes a site name (to what the matches
# share), Tab again lists the matching sites in a small popup chosen with the
# arrows and Enter (typing filters it, Esc closes only the list); and after
# `a` adds a site, the Sites cursor is on it.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
CONSOLE_SITES_EXTRA="  - name: billing-eu
    url: http://127.0.0.1:9/eu
    enabled: false
  - name: billing-us
    url: http://127.0.0.1:9/us
    enabled: false
  - name: shipping
    url: http://127.0.0.1:9/ship
    enabled: false"
. "$(dirname "$0")/console_common.sh"

hd send --site billing-eu --action inv.eu >/dev/null
hd send --site billing-us --action inv.us >/dev/null
hd send --site shipping --action parcel.sent >/dev/null
hd send --site ok --action plain.ok >/dev/null
expect_fixed "1 Logs"
expect "plain.ok .*Done"

echo "# Tab completes to what the matches share, Tab again lists them"
keys f
expect_fixed "Trusted site (Tab lists, empty = any):"
type_text "BIL"
keys Tab
expect_fixed "Trusted site (Tab lists, empty = any): billing-"
keys Tab
expect_fixed " 2 sites "
expect_fixed "billing-eu"
expect_fixed "billing-us"
on_screen -e "x shipping  *x" && fail "the list shows a site that does not match"
echo "# Down, Enter: the second is chosen and the filter applied"
keys Down
keys Enter
expect_fixed "Filter: site=billing-us"
expect_count 1 "inv\.us"
expect_count 0 "inv\.eu"

echo "# one match: Tab completes the whole name"
keys f
keys C-u
type_text "shi"
keys Tab
expect_fixed "Trusted site (Tab lists, empty = any): shipping"
keys Enter
expect_fixed "Filter: site=shipping"
expect_count 1 "parcel\.sent"

echo "# Tab on an empty prompt lists every site; typing filters the list; End, Enter"
keys f
keys C-u
keys Tab
expect_fixed " 6 sites "
type_text "b"
expect_fixed " 3 sites "   # bad, billing-eu, billing-us
keys End
keys Enter
expect_fixed "Filter: site=billing-us"

echo "# Esc closes only the list; Esc again the prompt; the filter stays"
keys f
keys C-u
keys Tab
expect_fixed " 6 sites "
keys Escape
expect_fixed "Trusted site (Tab lists, empty = any):"
on_screen -F " 6 sites " && fail "Esc left the list open"
keys Escape
expect_fixed "Filter: site=billing-us"
echo "# no match: the list says so; Backspace until something matches"
keys f
keys C-u
type_text "zzz"
keys Tab
expect_fixed " 0 sites "
expect_fixed "no match"
keys C-u
type_text "o"
expect_fixed " 1 site "
keys Escape
keys Escape
expect_fixed "Filter: site=billing-us"
keys Escape
expect_fixed "All messages"

echo "# a: the site just added is selected on Sites (its name sorts in the middle)"
keys 3
expect_fixed "6 trusted sites."
keys g
expect "^ok .*  max in flight\|^bad  max in flight"
keys a
expect_fixed "Add a trusted site"
type_text "carrier"
keys Tab
type_text "http://127.0.0.1:$PORT/ok"
keys C-s
expect_fixed "trusted site carrier saved"
expect_fixed "7 trusted sites."
expect "^carrier  max in flight"
echo "ok"
