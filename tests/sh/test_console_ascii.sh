#!/bin/sh
# test_console_ascii.sh - LANG=C (issue #11 defect 5): a locale that is not
# UTF-8 shows one '?' per non-ASCII character (é, 日本, an emoji) on every
# screen and in the CLI's tables, never raw bytes, and the columns stay where
# the header puts them.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C LC_ALL=C NO_COLOR=1
. "$(dirname "$0")/console_common.sh"

# high_bytes FILE: lines of FILE with a byte outside printable ASCII.
high_bytes() { LC_ALL=C grep -n '[^ -~]' "$1"; }

# aligned FILE HEADER-REGEX COLUMN-TITLE ROW-REGEX VALUE: in FILE, every line
# matching ROW-REGEX has VALUE at the column where the header line (matching
# HEADER-REGEX) has COLUMN-TITLE.
aligned() {
    LC_ALL=C awk -v h="$2" -v t="$3" -v r="$4" -v v="$5" '
        $0 ~ h && !col { col = index($0, t) }
        col && $0 ~ r { n++; if (substr($0, col, length(v)) != v) { bad++; print "misaligned: " $0 } }
        END { exit (col && n > 0 && !bad) ? 0 : 1 }' "$1"
}

hd send --site ok --action 'plain.ascii' --customer 'cus_plain' >/dev/null
hd send --site ok --action 'caf'"$(printf '\303\251')"'.x' --customer "$(printf 'c\303\251_1')" >/dev/null
hd send --site ok --action "$(printf '\346\227\245\346\234\254.y')" --customer "$(printf '\346\227\245\346\234\254_2')" >/dev/null
hd send --site ok --action "$(printf '\360\237\230\200.z')" --customer "$(printf '\360\237\230\200_3')" >/dev/null

echo "# Logs: one ? per character, the site and status columns in place"
expect_fixed "1 Logs"
expect_count 4 "cus_plain\|c?_1\|??_2\|?_3"
expect_count 4 "ok  *200  *Done"
screen >"$W/logs.txt"
grep -q "caf?\.x  *c?_1  " "$W/logs.txt" || fail "é is not one '?'"
grep -q "??\.y  *??_2  " "$W/logs.txt" || fail "日本 is not two '?'"
grep -q "?\.z  *?_3  " "$W/logs.txt" || fail "the emoji is not one '?'"
rows='plain\.ascii|caf\?\.x|\?\?\.y|\?\.z'
high_bytes "$W/logs.txt" | grep -E "$rows" && fail "raw non-ASCII bytes in the Logs rows"
aligned "$W/logs.txt" "Trusted site" "Trusted site" "$rows" "ok " || fail "the site column moved"
aligned "$W/logs.txt" "Trusted site" "Status" "$rows" "Done" || fail "the status column moved"

echo "# Queue: the same, for a message of a paused site"
hd sites edit ok --disable >/dev/null 2>&1 || hd sites edit ok --enabled false >/dev/null 2>&1 ||
    fail "cannot pause the site from the CLI"
hd send --site ok --action 'wait' --customer "$(printf '\346\227\245\346\234\254\303\251')" >/dev/null
hd send --site ok --action 'wait' --customer 'cus_wait' >/dev/null
keys 2
expect "???  *ok "
screen >"$W/queue.txt"
high_bytes "$W/queue.txt" | grep -E 'cus_wait|\?\?\?' && fail "raw bytes in the Queue rows"
aligned "$W/queue.txt" "Trusted site" "Trusted site" 'cus_wait|\?\?\?  ' "ok " ||
    fail "the Queue's site column moved"

echo "# detail: the fields too"
keys 1
expect_fixed "caf?.x"
keys '&'
type_text "caf"
keys Enter
expect_fixed "Filter: action~caf"
expect_count 1 "caf?\.x"
keys Enter
expect "Customer  *c?_1"
screen >"$W/detail.txt"
high_bytes "$W/detail.txt" | grep -E 'Customer|Action' && fail "raw bytes in the detail"
keys Escape

echo "# the CLI's table: one ? per character, columns aligned"
hd logs --limit 0 >"$W/cli.txt"
high_bytes "$W/cli.txt" && fail "raw bytes in 'hookdesk logs' under LANG=C"
aligned "$W/cli.txt" "^ *ID " "SITE" 'plain|caf|\?' "ok " || { cat "$W/cli.txt"; fail "CLI SITE column moved"; }
aligned "$W/cli.txt" "^ *ID " "STATUS" 'plain|caf|\?\.' "Done" || { cat "$W/cli.txt"; fail "CLI STATUS column moved"; }
hd logs --limit 0 --format csv | LC_ALL=C grep -q "$(printf '\346\227\245')" ||
    fail "CSV output must keep the data as is"
keys q
expect_fixed "EXIT=0"
echo "ok"
