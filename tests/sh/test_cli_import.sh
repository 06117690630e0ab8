#!/bin/sh
# import: 1,000 lines from a file and from stdin; a bad line 500 stores nothing;
# payloads no site could be sent (one JSON rule) are refused by line; the
# bounded line reader's edge cases.  (Limits and interruptions:
# test_cli_limits.sh.)
. "$(dirname "$0")/cli_common.sh"

write_config "sites:
  - name: rx
    url: http://127.0.0.1:9/ok
  - name: other
    url: http://127.0.0.1:9/other"

gen() {  # gen N [BADLINE [BLANKS]]: N JSON lines, line BADLINE broken, blank lines if BLANKS
    awk -v n="$1" -v bad="${2:-0}" -v blanks="${3:-0}" 'BEGIN {
        for (i = 1; i <= n; i++) {
            if (i == bad) { print "{\"site\": \"rx\", \"action\": \"a\", \"payload\": {\"n\": }"; continue }
            if (blanks && i % 100 == 0) print ""
            site = (i % 2) ? "rx" : "other"
            printf "{\"site\":\"%s\",\"action\":\"order.created\",\"customer\":\"c%d\",\"path\":\"/o/%d\",\"payload\":{\"n\":%d,\"tags\":[\"x\",\"y\"]}}\n", site, i % 10, i, i
        }
    }'
}

# --- a good file ---
gen 1000 0 1 >"$TMP/good.jsonl"   # with empty lines (skipped)
hd import "$TMP/good.jsonl"
expect_rc 0 "import of 1,000 lines"
check "import reports the count" grep -q "^imported 1000 messages" "$TMP/out"
hd logs --limit 0 --format json
check "1,000 messages stored" test "$(count_lines "$TMP/out")" -eq 1000
hd logs --site other --limit 0 --format json
check "site resolved per line" test "$(count_lines "$TMP/out")" -eq 500
check "payload kept" sh -c "'$HOOKDESK_BIN' -c '$TMP/hookdesk.yaml' show 1 --format json | grep -q '\"payload\":{\"n\":1,\"tags\":\\[\"x\",\"y\"\\]}'"
check "path kept" sh -c "'$HOOKDESK_BIN' -c '$TMP/hookdesk.yaml' show 1 | grep -q '^Path: */o/1'"

# --- from stdin (spooled for the second pass) ---
gen 300 | "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" import - >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 0 "import from stdin"
check "stdin import count" grep -q "^imported 300 messages" "$TMP/out"
hd logs --limit 0 --format json
check "1,300 messages stored" test "$(count_lines "$TMP/out")" -eq 1300

# --- a bad line 500: exit 2, line named, nothing stored ---
gen 1000 500 >"$TMP/bad.jsonl"
hd import "$TMP/bad.jsonl"
expect_rc 2 "import with a bad line"
check "error names line 500" grep -q "bad.jsonl:500:" "$TMP/err"
hd logs --limit 0 --format json
check "nothing stored from the bad file" test "$(count_lines "$TMP/out")" -eq 1300

# --- every kind of bad line is caught in pass 1 ---
cat >"$TMP/bad2.jsonl" <<'JSONL'
{"site": "rx", "action": "ok", "payload": {}}
[1, 2]
{"site": "nosuch", "action": "a", "payload": {}}
{"site": "rx", "payload": {}}
{"site": "rx", "action": 5, "payload": {}}
{"site": "rx", "action": "a"}
{"site": "rx", "action": "a", "path": "no-slash", "payload": {}}
{"site": "x\u001b[2Jy", "action": "a", "payload": {}}
JSONL
hd import "$TMP/bad2.jsonl"
expect_rc 2 "import with several bad lines"
check "not an object (line 2)" grep -q "bad2.jsonl:2: not a JSON object" "$TMP/err"
check "unknown site (line 3)" grep -q "bad2.jsonl:3: site 'nosuch' not found" "$TMP/err"
check "missing action (line 4)" grep -q "bad2.jsonl:4: action: required" "$TMP/err"
check "action not a string (line 5)" grep -q "bad2.jsonl:5: action: must be a string" "$TMP/err"
check "missing payload (line 6)" grep -q "bad2.jsonl:6: payload: required" "$TMP/err"
check "path without slash (line 7)" grep -q "bad2.jsonl:7: path: must start with '/'" "$TMP/err"
check "site name from the file shown inert (line 8)" grep -q "bad2.jsonl:8: site 'x^\[\[2Jy' not found" "$TMP/err"
check "no raw escape on stderr" sh -c "! grep -q \"\$(printf '\\033')\" '$TMP/err'"
hd logs --limit 0 --format json
check "nothing stored from bad2" test "$(count_lines "$TMP/out")" -eq 1300

# --- payloads are stored byte for byte; escaped strings are decoded ---
printf '%s\n' '{"site":"rx","action":"caf\u00e9","customer":"c\"q","payload": {"big": 1234567890123456789, "r": 1.50e300, "s": "a\u00e9"}}' >"$TMP/exact.jsonl"
hd import "$TMP/exact.jsonl"
expect_rc 0 "import of an exact payload"
hd logs --limit 1 --format json
check "escaped action decoded" grep -q '"action":"café"' "$TMP/out"
check "escaped customer decoded" grep -q '"customer":"c\\"q"' "$TMP/out"
ID=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$TMP/out")
check "payload text kept exactly (big number, spacing, escapes)" sh -c "'$HOOKDESK_BIN' -c '$TMP/hookdesk.yaml' show $ID --format json | grep -q '\"big\":1234567890123456789,'"
check "payload numbers keep their spelling" sh -c "'$HOOKDESK_BIN' -c '$TMP/hookdesk.yaml' show $ID | grep -q '\"r\": 1.50e300,'"
hd logs --limit 0 --format json
BEFORE=$(count_lines "$TMP/out")

# --- one JSON rule (issue #10): what jansson refuses, so that a form-encoded
# site could never send it, is refused here with its line ---
cat >"$TMP/undeliverable.jsonl" <<'JSONL'
{"site": "rx", "action": "ok", "payload": {"max": 9223372036854775807, "e": "\ud83d\ude00"}}
{"site": "rx", "action": "a", "payload": {"s": "\ud800"}}
{"site": "rx", "action": "a", "payload": {"s": "a\u0000b"}}
{"site": "rx", "action": "a", "payload": {"n": 123456789012345678901234567890}}
{"site": "rx", "action": "a\u0000", "payload": {}}
{"site": "rx", "action": "a", "payload": [-9223372036854775809]}
{"site": "rx", "action": "a", "payload": {"r": 1e999}}
{"site": "rx", "action": "a", "payload": "\udc00"}
JSONL
hd import "$TMP/undeliverable.jsonl"
expect_rc 2 "import of undeliverable payloads"
check "lone surrogate (line 2)" grep -q "undeliverable.jsonl:2: .*lone UTF-16 surrogate" "$TMP/err"
check "NUL (line 3)" grep -q "undeliverable.jsonl:3: .*u0000 (NUL) is not allowed" "$TMP/err"
check "integer past 64 bits (line 4)" grep -q "undeliverable.jsonl:4: .*integer out of range" "$TMP/err"
check "NUL in the action (line 5)" grep -q "undeliverable.jsonl:5: .*u0000 (NUL) is not allowed" "$TMP/err"
check "negative integer past 64 bits (line 6)" grep -q "undeliverable.jsonl:6: .*integer out of range" "$TMP/err"
check "real past a double (line 7)" grep -q "undeliverable.jsonl:7: .*number out of range" "$TMP/err"
check "lone low surrogate (line 8)" grep -q "undeliverable.jsonl:8: .*lone UTF-16 surrogate" "$TMP/err"
check "the good line 1 is not blamed" sh -c "! grep -q 'undeliverable.jsonl:1:' '$TMP/err'"
hd logs --limit 0 --format json
check "nothing stored from the undeliverable file" test "$(count_lines "$TMP/out")" -eq "$BEFORE"

# --- the line reader: CRLF ends, a last line without a newline, blank lines
# of spaces, and a NUL byte (refused, not cut short at it) ---
hd logs --limit 0 --format json
BEFORE=$(count_lines "$TMP/out")
printf '{"site":"rx","action":"crlf","payload":{"n":1}}\r\n  \t \r\n{"site":"rx","action":"crlf","payload":[2]}' \
    >"$TMP/crlf.jsonl"
hd import "$TMP/crlf.jsonl"
expect_rc 0 "import with CRLF ends and no final newline"
check "CRLF: both lines imported" grep -q "^imported 2 messages" "$TMP/out"
printf '{"site":"rx","action":"nul","payload":{}}\000{"junk"\n' >"$TMP/nul.jsonl"
hd import "$TMP/nul.jsonl"
expect_rc 2 "import of a line with a NUL byte"
check "NUL: line 1 named" grep -q "nul.jsonl:1:" "$TMP/err"
hd logs --limit 0 --format json
check "only the CRLF lines were added" test "$(count_lines "$TMP/out")" -eq $((BEFORE + 2))

# --- all or nothing (issue #10): the usage says so ---
hd import --help
check "import --help says all or nothing" grep -q "All or nothing" "$TMP/out"

hd import "$TMP/missing.jsonl"
expect_rc 1 "import of a missing file"
hd import
expect_rc 2 "import without a file"

finish
