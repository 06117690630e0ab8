#!/bin/sh
# The engine under a full disk (a small tmpfs this test mounts): serve reports
# the database error at once and keeps going, delivers everything once space
# returns (nothing lost, nothing sent twice), stops with exit 1 after
# delivery.fault_timeout of nothing but failures (`serve --drain` ends too),
# and a SIGTERM while the database fails ends serve within its bound.
. "$(dirname "$0")/cli_common.sh"

DISK="$TMP/disk"
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=24m tmpfs "$DISK" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (not root, or no mount permission)"
    exit 0
fi
cleanup_disk() { umount -l "$DISK" 2>/dev/null; cleanup; }
trap cleanup_disk EXIT INT TERM

start_receiver
# write_fault_config FAULT_TIMEOUT
write_fault_config() {
    cat >"$TMP/hookdesk.yaml" <<YAML
database: $DISK/hd.db
delivery:
  retry_interval: 50ms
  poll_interval: 100ms
  fault_timeout: $1
  # Short leases: what an engine that gave up held is retried 2 s later.
  timeout: 1s
  lease: 1s
network:
  allow_private: true
sites:
  - name: slow
    url: http://127.0.0.1:$RX_PORT/delay/20
    max_in_flight: 2
YAML
}
# import_msgs N TAG: N messages with a 1 KiB payload.
import_msgs() {
    pad=$(head -c 1000 /dev/zero | tr '\0' 'x')
    i=0
    while [ $i -lt "$1" ]; do
        echo "{\"site\":\"slow\",\"action\":\"$2\",\"customer\":\"c$i\",\"payload\":{\"pad\":\"$pad\"}}"
        i=$((i + 1))
    done >"$TMP/m.jsonl"
    hd import "$TMP/m.jsonl"
    expect_rc 0 "import $1 $2"
}
fill_disk() { dd if=/dev/zero of="$DISK/fill" bs=16k 2>/dev/null; sync; }
free_disk() { rm -f "$DISK/fill"; }
done_count() {
    "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" logs --status done --action "$1" --limit 0 --format json 2>/dev/null | wc -l | tr -d ' '
}
at_least() { [ "$(done_count "$1")" -ge "$2" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }

# --- 1. the disk fills while serve delivers; space returns ---
write_fault_config 10m
import_msgs 200 one
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve >"$TMP/s1.out" 2>"$TMP/s1.err" &
S1=$!
check "serve started delivering" wait_for 10 at_least one 10
fill_disk
check "serve reports the database error at once ($(tail -2 "$TMP/s1.err"))" \
    wait_for 5 grep -q "database error: .*full" "$TMP/s1.err"
check "serve keeps running while the disk is full" alive "$S1"
sleep 1
free_disk
check "serve says when the database is usable again" \
    wait_for 10 grep -q "database usable again after" "$TMP/s1.err"
check "every message is delivered once space returns ($(done_count one) of 200)" \
    wait_for 20 at_least one 200
check "nothing was sent twice (received $(grep -c '"path":"/delay/20"' "$RX_LOG"))" \
    test "$(grep -c '"path":"/delay/20"' "$RX_LOG")" -eq 200
kill -TERM "$S1"
wait "$S1"
RC=$?
check "serve exits 0 on SIGTERM (rc $RC)" test "$RC" -eq 0

# --- 2. a persistent fault stops serve --drain with exit 1 after fault_timeout ---
write_fault_config 2s
import_msgs 300 two
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve --drain >"$TMP/s2.out" 2>"$TMP/s2.err" &
S2=$!
check "serve --drain started delivering" wait_for 10 at_least two 2
fill_disk
check "serve --drain ends while the disk stays full" wait_for 12 dead "$S2"
wait "$S2"
RC=$?
check "serve --drain exits 1 after delivery.fault_timeout (rc $RC)" test "$RC" -eq 1
check "it says why ($(tail -2 "$TMP/s2.err" | cut -c1-300))" \
    grep -q "database transactions failed for 2s (delivery.fault_timeout)" "$TMP/s2.err"
free_disk
hd serve --drain
expect_rc 0 "serve --drain after space returns"
check "nothing lost: all 300 delivered ($(done_count two))" test "$(done_count two)" -eq 300

# --- 3. SIGTERM while the database fails ends serve within its bound ---
write_fault_config 10m
import_msgs 300 three
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve >"$TMP/s3.out" 2>"$TMP/s3.err" &
S3=$!
check "serve started delivering" wait_for 10 at_least three 2
fill_disk
check "serve reports the database error" wait_for 5 grep -q "database error" "$TMP/s3.err"
kill -TERM "$S3"
check "SIGTERM ends serve within 8 s while the database fails" wait_for 8 dead "$S3"
wait "$S3"
free_disk
hd serve --drain
expect_rc 0 "serve --drain after space returns"
check "nothing lost: all 300 delivered ($(done_count three))" test "$(done_count three)" -eq 300
finish
