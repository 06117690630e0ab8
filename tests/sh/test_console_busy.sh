#!/bin/sh
# test_console_busy.sh - keys never wait on the database (issue #11, defect
# 4): another process holds the write lock (a sqlite3 shell inside BEGIN
# IMMEDIATE, fed through a fifo); `p` on Sites answers at once with
# "database busy, retrying", the other keys keep working, Esc cancels the
# waiting change (nothing written), and once the lock is released a second
# `p` goes through by itself: the site is paused, as the CLI confirms.
#
# Every check polls the screen (50 ms, 10 s at most); the one timing check
# is that each key's frame came in under a second, where the bug took the
# whole busy timeout (5 s).
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
LOCKPID=""
CONSOLE_CLEANUP_EXTRA='[ -n "$LOCKPID" ] && kill "$LOCKPID" 2>/dev/null; exec 9>&- 2>/dev/null'
. "$(dirname "$0")/console_common.sh"
DB=$W/t.db

# locked: true while a connection holds the write lock for over a second
# (the console's engine takes it for milliseconds at a time).
locked() { ! sqlite3 -cmd ".timeout 1000" "$DB" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; }
take_lock() {
    rm -f "$W/lock.fifo"
    mkfifo "$W/lock.fifo"
    sqlite3 "$DB" <"$W/lock.fifo" >"$W/lock.out" 2>&1 &
    LOCKPID=$!
    exec 9>"$W/lock.fifo"
    echo "BEGIN IMMEDIATE; SELECT 'locked';" >&9
    end=$(($(date +%s) + 10))
    until grep -q locked "$W/lock.out"; do
        [ "$(date +%s)" -ge "$end" ] && fail "the sqlite3 shell did not take the lock: $(cat "$W/lock.out")"
        sleep 0.05
    done
}
release_lock() {
    echo "COMMIT;" >&9
    exec 9>&-
    wait "$LOCKPID" 2>/dev/null
    LOCKPID=""
    locked && fail "the lock is still held"
}
# keys_fast: every key traced since keys_mark was drawn within 1000 ms.
keys_fast() {
    slow=$(awk -v from="$KEYS_MARK" '$1 == "key" { n++; if (n > from && $4 > 1000) print $2 " " $4 " ms" }' "$W/trace")
    [ -z "$slow" ] || fail "keys waited on the database: $slow"
}
site_enabled() { hd sites list --format json | tr "{" "\n" | grep "\"name\": *\"$1\"" | grep -q "\"enabled\": *true"; }

expect_fixed "1 Logs"
keys 3
expect "^bad  *http"
take_lock

echo "# p while another process holds the lock: answered at once, retrying"
keys_mark
keys p
expect_fixed "database busy, retrying"
expect_fixed "pause bad (Esc cancels)"
keys j k 2 3
keys_settled 5
keys_fast
expect_fixed "database busy, retrying"

echo "# Esc cancels the waiting change: nothing is written"
keys Escape
expect_fixed "cancelled, not done: pause bad"
on_screen -F "database busy" && fail "the busy footer stayed after Esc"
release_lock
site_enabled bad || fail "a cancelled pause was written"
take_lock

echo "# p again; the lock goes away; the pause happens by itself"
keys_mark
keys p
expect_fixed "database busy, retrying"
keys_settled 1
keys_fast
release_lock
expect_fixed "bad paused"
expect "^bad .*paused"
site_enabled bad && fail "the CLI does not see bad paused"
echo "all checks passed"
