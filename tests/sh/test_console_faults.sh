#!/bin/sh
# test_console_faults.sh - a database fault as the operator sees it (issue
# #10): the console's database lives on a small tmpfs this test mounts; the
# disk fills while its engine delivers.  The header must say "DATABASE
# ERROR, retrying" at once instead of "engine on", the console must keep
# answering keys, and once space returns the header goes back to "engine
# on" and every message is Done (nothing lost).
#
# Every check polls the screen until it holds or 10 s pass, and prints the
# screen when it does not: no fixed sleeps.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8

DISK=$(mktemp -d "${TMPDIR:-/tmp}/hd-fault-disk.XXXXXX")
if ! mount -t tmpfs -o size=24m tmpfs "$DISK" 2>/dev/null; then
    rmdir "$DISK"
    echo "SKIP: cannot mount a tmpfs here (not root, or no mount permission)"
    exit 0
fi
CONSOLE_DB="$DISK/t.db"
# -l: the console may still be closing its database when tmux is gone.
CONSOLE_CLEANUP_EXTRA='umount -l "$DISK" 2>/dev/null; rmdir "$DISK" 2>/dev/null'
. "$(dirname "$0")/console_common.sh"

fill_disk() { dd if=/dev/zero of="$DISK/fill" bs=16k 2>/dev/null; sync; }
free_disk() { rm -f "$DISK/fill"; }
# done_count: messages of the "fault" action that are Done (read-only: a
# full disk does not stop a reader).
done_count() {
    hd logs --status done --action fault --limit 0 --format json 2>/dev/null | wc -l | tr -d ' '
}
wait_done() {
    end=$(($(date +%s) + $2))
    until [ "$(done_count)" -ge "$1" ]; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}

expect_fixed "engine on"
# 50 ms an answer, 2 at a time: deliveries are still under way when the disk fills.
hd sites add slow --url "http://127.0.0.1:$PORT/delay/50" --max-in-flight 2 >/dev/null ||
    fail "sites add slow failed"
pad=$(head -c 1000 /dev/zero | tr '\0' 'x')
i=0
while [ $i -lt 300 ]; do
    echo "{\"site\":\"slow\",\"action\":\"fault\",\"customer\":\"c$i\",\"payload\":{\"pad\":\"$pad\"}}"
    i=$((i + 1))
done >"$W/m.jsonl"
hd import "$W/m.jsonl" >/dev/null || fail "import of 300 messages failed"
wait_done 5 10 || fail "the console's engine did not start delivering ($(done_count) done)"

echo "# the disk fills: the header says so at once"
fill_disk
expect_fixed "DATABASE ERROR, retrying"
on_screen -F "engine on," && fail "the header still says 'engine on' during a database error"

echo "# the console still answers keys while the engine retries"
keys 2
expect_fixed "2 Queue"
expect "Queue"
keys 1

echo "# space returns: the header clears and nothing is lost"
free_disk
expect_fixed "engine on"
wait_done 300 60 || fail "only $(done_count) of 300 messages Done after space returned"
n=$(hd logs --action fault --limit 0 --format json | wc -l | tr -d ' ')
[ "$n" -eq 300 ] || fail "expected 300 messages of the fault action, found $n"
echo "all checks passed"
