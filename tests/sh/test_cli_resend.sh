#!/bin/sh
# test_cli_resend.sh - resend rules (issues #10, #11): `resend --status
# failed` skips payloads over delivery.max_payload and says how many (exit
# 2), as `resend ID` refuses them; `resend ID` of a message still pending
# refuses unless --force (it would send it twice); a message whose site was
# deleted says so in operator words.
. "$(dirname "$0")/cli_common.sh"

start_receiver
write_config "sites:
  - name: broken
    url: http://127.0.0.1:$RX_PORT/status/500
  - name: held
    url: http://127.0.0.1:$RX_PORT/ok
    enabled: false"
# The same database under a larger limit: payloads stored before the limit
# was lowered.
# (No circuit breaker: the three failures must all be spent.)
sed 's/^delivery:$/delivery:\n  breaker: {failures: 0}\n  max_payload: 4KiB/' "$TMP/hookdesk.yaml" >"$TMP/loose.yaml"
sed 's/^delivery:$/delivery:\n  breaker: {failures: 0}\n  max_payload: 1KiB/' "$TMP/hookdesk.yaml" >"$TMP/strict.yaml"
cp "$TMP/strict.yaml" "$TMP/hookdesk.yaml"

payload() {  # payload FILE BYTES: a JSON object of exactly BYTES bytes
    awk -v n="$2" 'BEGIN { printf "{\"p\":\""; for (i = 0; i < n - 8; i++) printf "x"; printf "\"}" }' >"$1"
}
payload "$TMP/small.json" 100
payload "$TMP/big.json" 2000
for f in small big big; do
    "$HOOKDESK_BIN" -c "$TMP/loose.yaml" send --site broken --action "a.$f" \
        --payload "$TMP/$f.json" >"$TMP/out" 2>"$TMP/err" || fail "send $f: $(cat "$TMP/err")"
done
BIG=$(cat "$TMP/out")
timeout 60 "$HOOKDESK_BIN" -c "$TMP/loose.yaml" serve --drain >/dev/null 2>"$TMP/serve.err"
hd logs --status failed --format csv
check "three Failed messages" test "$(tail -n +2 "$TMP/out" | wc -l)" -eq 3

# --- resend ID: refused over the limit (the rule of issue #10) ---
hd resend "$BIG"
expect_rc 2 "resend ID of a payload over the limit"
check "resend ID names the size and the limit" grep -q \
    "#$BIG not resent: its payload (2000 bytes) is over delivery.max_payload (1 KiB)" "$TMP/err"

# --- resend --status failed: the same rule, skipped with a count ---
hd resend --status failed
expect_rc 2 "bulk resend with payloads over the limit"
check "bulk resend resent the small one" grep -q "^resent 1 failed message$" "$TMP/out"
check "bulk resend says how many it skipped and why" grep -q \
    "resend: 2 failed messages not resent: payload more than delivery.max_payload (1 KiB)" "$TMP/err"
hd logs --action a.big --format csv
check "no copy of an oversized payload was made" test "$(tail -n +2 "$TMP/out" | wc -l)" -eq 2
"$HOOKDESK_BIN" -c "$TMP/loose.yaml" resend --status failed >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 0 "bulk resend under the larger limit"
check "under the larger limit both go" grep -q "^resent 2 failed messages$" "$TMP/out"

# --- resend ID of a pending message: refused unless --force (issue #11) ---
hd send --site held --action a.pending
PENDING=$(cat "$TMP/out")
hd resend "$PENDING"
expect_rc 1 "resend of a pending message"
check "pending: says it would send twice" grep -q \
    "message $PENDING is still pending (Queued): resending it would send it twice; not resent (--force to resend anyway)" "$TMP/err"
hd logs --action a.pending --format csv
check "pending: nothing resent" test "$(tail -n +2 "$TMP/out" | wc -l)" -eq 1
hd resend --force "$PENDING"
expect_rc 0 "resend --force of a pending message"
check "--force resends" grep -q "^resent $PENDING -> " "$TMP/out"
hd resend --help
check "--help names --force" grep -q -- "--force" "$TMP/out"

# --- a message whose site was deleted: operator words, not "site #N" ---
# Removing a site fails its pending messages; they keep no site.
hd send --site held --action a.orphan
ORPHAN=$(cat "$TMP/out")
hd sites remove held
expect_rc 0 "sites remove"
hd resend "$ORPHAN"
expect_rc 1 "resend of a message of a deleted site"
check "deleted site in words" grep -q "#$ORPHAN not resent: its site was deleted" "$TMP/err"
check "no internal site id" sh -c "! grep -q 'site #' '$TMP/err'"

finish
