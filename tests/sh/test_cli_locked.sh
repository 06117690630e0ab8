#!/bin/sh
# Reading commands work while another process holds the SQLite write lock
# (a long import, a sqlite3 shell inside a transaction): starting a command
# seeds the configuration's sites only into an empty database, so it reads
# without taking the lock.  Before, every command began with a write
# transaction and `sites list` failed after the busy timeout ("seeding
# sites ... database is locked").  SQLite only: PostgreSQL has no
# database-wide write lock.
. "$(dirname "$0")/cli_common.sh"

if [ "${HD_TEST_BACKEND:-sqlite}" = pg ]; then
    echo "skipped: SQLite's write lock"
    exit 0
fi

write_config "sites:
  - name: rx
    url: http://127.0.0.1:9/ok"
hd send --site rx --action order.created
expect_rc 0 "send (seeds the site)"

take_lock() {
    rm -f "$TMP/lock.fifo"
    mkfifo "$TMP/lock.fifo"
    sqlite3 "$HD_DB" <"$TMP/lock.fifo" >"$TMP/lock.out" 2>&1 &
    LOCKPID=$!
    exec 9>"$TMP/lock.fifo"
    echo "BEGIN IMMEDIATE; SELECT 'locked';" >&9
    wait_for 10 grep -q locked "$TMP/lock.out" ||
        fail "the sqlite3 shell did not take the lock: $(cat "$TMP/lock.out")"
}
release_lock() {
    echo "COMMIT;" >&9
    exec 9>&-
    wait "$LOCKPID" 2>/dev/null
}

take_lock
# Each within 2 s: under the busy timeout (5 s), so none of them waited.
for cmd in "sites list" "queue" "logs" "show 1"; do
    start=$(date +%s)
    # shellcheck disable=SC2086
    hd $cmd
    expect_rc 0 "$cmd while another process holds the write lock"
    check "$cmd answered at once" test $(($(date +%s) - start)) -le 2
done
hd sites list
check "sites list shows the site" grep -q "rx" "$TMP/out"
release_lock

finish
