#!/bin/sh
# The CLI's contract: help/version, usage errors, bad config, and the
# send -> logs/queue/show round trip in every output format; send's one
# JSON rule, CSV formula cells, no core dumps, the YAML bounds (issue #10).
. "$(dirname "$0")/cli_common.sh"

write_config "sites:
  - name: rx
    url: http://127.0.0.1:9/ok"

# --- help, version, usage errors ---
hd --help;            expect_rc 0 "--help"
check "--help lists commands" grep -q "import" "$TMP/out"
hd --version;         expect_rc 0 "--version"
check "--version prints the version" grep -q "^hookdesk [0-9]" "$TMP/out"
hd send --help;       expect_rc 0 "send --help"
check "send --help shows send's usage" grep -q -- "--payload" "$TMP/out"
"$HOOKDESK_BIN" -c "$TMP/no-such.yaml" console --help >"$TMP/out" 2>"$TMP/err"; RC=$?
expect_rc 0 "console --help with a missing config file"
check "console --help shows the console's usage" grep -q -- "--no-deliver" "$TMP/out"
hd frobnicate;        expect_rc 2 "unknown command"
check "unknown command named" grep -q "unknown command 'frobnicate'" "$TMP/err"
hd logs --bogus;      expect_rc 2 "unknown option"
check "unknown option named" grep -q "unknown option '--bogus'" "$TMP/err"
hd send --site;       expect_rc 2 "missing option value"
hd send --action a;   expect_rc 2 "send without --site"
hd send --site "$(printf 'x\033[2Jy')" --action a; expect_rc 2 "send to an unknown site"
check "an escape in an argument is shown inert in the error" sh -c "grep -q 'x^\[\[2Jy' '$TMP/err' && ! grep -q \"\$(printf '\\033')\" '$TMP/err'"
hd --no-deliver logs; expect_rc 2 "--no-deliver with a non-console command"
check "--no-deliver misuse explained" grep -q -- "--no-deliver applies to the console only" "$TMP/err"
hd logs --format xml; expect_rc 2 "bad --format"
hd show abc;          expect_rc 2 "show with a non-number"
hd show 999;          expect_rc 1 "show of a missing message"

# --- bad config: file:line:col on stderr, exit 2, database not even created ---
cat >"$TMP/bad.yaml" <<YAML
database: $TMP/bad.db
delivery:
  retry_intervall: 5s
YAML
"$HOOKDESK_BIN" -c "$TMP/bad.yaml" logs >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 2 "unknown config key"
check "config error names file:line:col" grep -q "bad.yaml:3:[0-9]*:" "$TMP/err"
check "config error names the key" grep -q "retry_intervall" "$TMP/err"
check "bad config creates no database" test ! -e "$TMP/bad.db"

# --- YAML bounds (issue #10): aliases, size, a bad max_payload ---
cat >"$TMP/alias.yaml" <<YAML
database: $TMP/alias.db
delivery:
  timeout: &t 5s
  lease: *t
YAML
"$HOOKDESK_BIN" -c "$TMP/alias.yaml" logs >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 2 "config with an alias"
check "alias refused at file:line:col" grep -q "alias.yaml:4:10: aliases are not supported" "$TMP/err"
check "alias config creates no database" test ! -e "$TMP/alias.db"
{ echo "database: $TMP/huge.db"; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } >"$TMP/huge.yaml"
"$HOOKDESK_BIN" -c "$TMP/huge.yaml" logs >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 2 "config over 1 MiB"
check "size refused" grep -q "huge.yaml: larger than a configuration may be (1 MiB)" "$TMP/err"
printf 'database: %s/mp.db\ndelivery:\n  max_payload: 100MiB\n' "$TMP" >"$TMP/mp.yaml"
"$HOOKDESK_BIN" -c "$TMP/mp.yaml" logs >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 2 "max_payload out of range"
check "max_payload range named" grep -q "delivery.max_payload: 100MiB is out of range (1KiB..64MiB)" "$TMP/err"

# --- usage texts name the payload limit and sites import's --expand-env ---
hd send --help
check "send --help names delivery.max_payload" grep -q "delivery.max_payload" "$TMP/out"
hd sites --help
check "sites --help shows import [--expand-env]" grep -q "sites import \[--expand-env\] FILE" "$TMP/out"

# --- a masked secret in a config's sites: (an export pasted in) is refused ---
cat >"$TMP/masked.yaml" <<YAML
database: $TMP/masked.db
sites:
  - name: pasted
    url: https://example.com/hook
    auth: {kind: bearer, token: "********"}
YAML
"$HOOKDESK_BIN" -c "$TMP/masked.yaml" sites list >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 2 "config with a masked secret"
check "masked secret named" grep -q "site 'pasted': a secret is masked" "$TMP/err"
check "masked config creates no database" test ! -e "$TMP/masked.db"

# --- send ---
printf '{"order": 42, "items": ["a", "b"]}' >"$TMP/p1.json"
hd send --site rx --action invoice.paid --customer cust-1 --payload "$TMP/p1.json"
expect_rc 0 "send"
ID1=$(cat "$TMP/out")
check "send prints an id" test "$ID1" -ge 1
echo '{"x": true}' | "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" send --site rx --action 'user,"created"' --path /u/7 --payload - >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 0 "send from stdin"
ID2=$(cat "$TMP/out")
hd send --site rx --action noop
expect_rc 0 "send with default payload"
ID3=$(cat "$TMP/out")

# invalid JSON: exit 2, line/column named, nothing stored
printf '{"a": 1,\n "b": }' >"$TMP/bad.json"
hd send --site rx --action x --payload "$TMP/bad.json"
expect_rc 2 "invalid payload"
check "invalid payload names line 2" grep -q "line 2" "$TMP/err"
hd send --site nosuch --action x
expect_rc 2 "unknown site"
check "unknown site message" grep -q "send: site 'nosuch' not found" "$TMP/err"
hd logs --format json --limit 0
check "nothing stored by the refused sends" test "$(count_lines "$TMP/out")" -eq 3

# --- logs --until DATE includes that day (one rule with the console's time filter) ---
TODAY=$(date +%Y-%m-%d)
hd logs --format json --limit 0 --until "$TODAY"
check "--until today includes today's messages" test "$(count_lines "$TMP/out")" -eq 3
hd logs --format json --limit 0 --since "$TODAY" --until "$TODAY"
check "--since D --until D is day D" test "$(count_lines "$TMP/out")" -eq 3
hd logs --format json --limit 0 --until "$(date -d yesterday +%Y-%m-%d 2>/dev/null || date -v-1d +%Y-%m-%d)"
check "--until yesterday excludes today" test "$(count_lines "$TMP/out")" -eq 0

# --- logs: table, json, csv ---
hd logs
expect_rc 0 "logs"
check "logs table header" grep -q "^ *ID  *CREATED  *ACTION  *CUSTOMER  *SITE  *CODE  *STATUS  *ATTEMPTS" "$TMP/out"
check "logs table row" grep -q "invoice.paid  *cust-1  *rx  .*Queued" "$TMP/out"
check "logs newest first" test "$(sed -n 2p "$TMP/out" | awk '{print $1}')" = "$ID3"

hd logs --format json
L=$(grep "\"id\":$ID1," "$TMP/out")
check "json id"          sh -c "echo '$L' | grep -q '^{\"id\":$ID1,'"
check "json created_at"  sh -c "echo '$L' | grep -Eq '\"created_at\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\"'"
check "json action"      sh -c "echo '$L' | grep -q '\"action\":\"invoice.paid\"'"
check "json customer"    sh -c "echo '$L' | grep -q '\"customer\":\"cust-1\"'"
check "json site"        sh -c "echo '$L' | grep -q '\"site\":\"rx\"'"
check "json status"      sh -c "echo '$L' | grep -q '\"status\":\"queued\"'"
check "json code null"   sh -c "echo '$L' | grep -q '\"response_code\":null'"
check "json attempts"    sh -c "echo '$L' | grep -q '\"attempts\":0}'"
check "json null customer" grep -q "\"id\":$ID3,.*\"customer\":null" "$TMP/out"

hd logs --format csv
tr -d '\r' <"$TMP/out" >"$TMP/csv"
check "csv header" test "$(head -1 "$TMP/csv")" = "id,created_at,action,customer,site,response_code,status,attempts"
check "csv row" grep -Eq "^$ID1,[0-9T:Z-]+,invoice.paid,cust-1,rx,,queued,0\$" "$TMP/csv"
check "csv quoting (RFC 4180)" grep -q "^$ID2,[^,]*,\"user,\"\"created\"\"\",,rx,,queued,0\$" "$TMP/csv"
check "csv CRLF line ends" sh -c "head -1 '$TMP/out' | od -c | grep -q '\\\\r  *\\\\n'"

# filters
hd logs --customer cust-1 --format json
check "--customer filter" test "$(count_lines "$TMP/out")" -eq 1
hd logs --action INVOICE --format json
check "--action substring filter" test "$(count_lines "$TMP/out")" -eq 1
hd logs --status done --format json
check "--status filter" test "$(count_lines "$TMP/out")" -eq 0
hd logs --limit 2 --format json
check "--limit" test "$(count_lines "$TMP/out")" -eq 2
hd logs --site nosuch
expect_rc 2 "logs unknown site"

# --- queue ---
hd queue
expect_rc 0 "queue"
check "queue header" grep -q "^ *ID  *CUSTOMER  *SITE  *RETRIES  *STATUS  *NEXT" "$TMP/out"
check "queue lists pending" test "$(count_lines "$TMP/out")" -eq 4
hd queue --format json
check "queue json fields" grep -q "\"id\":$ID1,\"customer\":\"cust-1\",\"site\":\"rx\",\"retries\":0" "$TMP/out"

# --- show ---
hd show "$ID2"
expect_rc 0 "show"
check "show action"  grep -q '^Action: *user,"created"' "$TMP/out"
check "show path"    grep -q "^Path: */u/7" "$TMP/out"
check "show payload pretty" grep -q '^    "x": true' "$TMP/out"
hd show "$ID1" --format json
check "show json payload is JSON" grep -q '"payload":{"order":42,"items":\["a","b"\]}' "$TMP/out"
check "show json attempts array" grep -q '"attempts":\[\]' "$TMP/out"
check "show json webhook_id" grep -q '"webhook_id":"msg_' "$TMP/out"
# By its webhook id, what a receiver reports (issue #11: find by id).
WID=$(sed -n 's/.*"webhook_id":"\(msg_[a-z2-7]*\)".*/\1/p' "$TMP/out")
hd show "$WID"
expect_rc 0 "show by webhook id"
check "show by webhook id finds the message" grep -q "^Message $ID1 ($WID)" "$TMP/out"
hd show msg_aaaaaaaaaaaaaaaaaaaaaaaaaa; expect_rc 1 "show of a webhook id nobody has"
check "says no message has it" grep -q "no message has webhook id msg_a" "$TMP/err"
hd show msg_nope;     expect_rc 2 "show of something that is not a webhook id"

# --- terminal escapes never reach the table ---
hd send --site rx --action "$(printf 'evil\033]0;pwned\007')"
hd logs
check "escape sequences neutralised in tables" sh -c "! grep -q \"\$(printf '\\033')\" '$TMP/out'"

# --- one JSON rule: send refuses what the engine could not deliver to a
# form-encoded site (jansson refuses it), naming why (issue #10) ---
hd logs --format json --limit 0
BEFORE=$(count_lines "$TMP/out")
for p in '{"s": "\ud800"}' '{"s": "x\udc00"}' '{"s": "\ud800\u0041"}' '{"s": "a\u0000b"}' \
         '{"n": 123456789012345678901234567890}' '{"n": -9223372036854775809}' '{"r": 1e400}' \
         '[1, {"k\u0000": 2}]'; do
    printf '%s' "$p" >"$TMP/undeliverable.json"
    hd send --site rx --action x --payload "$TMP/undeliverable.json"
    expect_rc 2 "send of $p"
    check "send says why for $p" grep -q "line 1, column [0-9]*: \(lone UTF-16 surrogate\|.u0000 (NUL) is not allowed\|integer out of range\|number out of range\)" "$TMP/err"
done
hd logs --format json --limit 0
check "nothing stored by the undeliverable sends" test "$(count_lines "$TMP/out")" -eq "$BEFORE"
printf '%s' '{"n": 9223372036854775807, "m": -9223372036854775808, "e": "\ud83d\ude00", "r": 1.7976931348623157e308, "tiny": 1e-400}' >"$TMP/edge.json"
hd send --site rx --action edge --payload "$TMP/edge.json"
expect_rc 0 "send of the largest deliverable numbers and a surrogate pair"

# --- CSV cells are neutralised against spreadsheet formulas (issue #10) ---
hd send --site rx --action '=HYPERLINK("http://evil.example/?x","click")' --customer '@SUM(1+1)'
expect_rc 0 "send with a formula as action and customer"
FID=$(cat "$TMP/out")
hd send --site rx --action '+cmd|calc' --customer '-2+3'
expect_rc 0 "send with + and - formulas"
GID=$(cat "$TMP/out")
hd logs --format csv --limit 0
tr -d '\r' <"$TMP/out" >"$TMP/csv"
check "csv: = cell gets a leading quote" grep -q "^$FID,[^,]*,\"'=HYPERLINK(\"\"http://evil.example/?x\"\",\"\"click\"\")\",'@SUM(1+1),rx,,queued,0\$" "$TMP/csv"
check "csv: + and - cells too" grep -q "^$GID,[^,]*,'+cmd|calc,'-2+3,rx,,queued,0\$" "$TMP/csv"
check "csv: no cell starts with a formula character" sh -c "! grep -q '\\(^\\|,\\)[=+@]' '$TMP/csv'"
hd queue --format csv
tr -d '\r' <"$TMP/out" >"$TMP/csv"
check "queue csv: the customer is neutralised" grep -q "^$FID,'@SUM(1+1),rx," "$TMP/csv"
hd logs --format json --limit 0
check "json keeps the text as it is" grep -q "\"id\":$FID,.*\"action\":\"=HYPERLINK(\\\\\"http://evil.example/?x\\\\\",\\\\\"click\\\\\")\",\"customer\":\"@SUM(1+1)\"" "$TMP/out"
hd logs --limit 0
check "the table keeps the text as it is" grep -q "^ *$FID  [0-9: -]*  =HYPERLINK(\"http://evil.example/?x\",\"cl.*  @SUM(1+1)  *rx" "$TMP/out"

# --- no core dumps: every process holding secrets runs with RLIMIT_CORE 0
# and is not dumpable (issue #10) ---
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve >"$TMP/serve.out" 2>"$TMP/serve.err" </dev/null &
SPID=$!
deadline=$(($(date +%s) + 15))
limits_zero() {
    grep -q "^Max core file size  *0  *0  *bytes" "/proc/$SPID/limits" 2>/dev/null &&
        grep -q "delivering from" "$TMP/serve.err"   # running, signal handlers in place
}
until limits_zero; do
    if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$SPID" 2>/dev/null; then
        fail "serve: core file size is not 0/0: $(grep 'core file' "/proc/$SPID/limits" 2>&1)"
        break
    fi
    sleep 0.1
done
if [ "$(id -u)" -ne 0 ]; then
    # A non-dumpable process's /proc files belong to root.
    check "serve is not dumpable" test "$(stat -c %u "/proc/$SPID/environ")" -eq 0
fi
kill "$SPID" 2>/dev/null
wait "$SPID"
check "serve stopped cleanly after the check" test "$?" -eq 0
(ulimit -c unlimited 2>/dev/null; "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" logs --limit 1 >/dev/null 2>&1)
check "a short command runs with core dumps off too" test "$?" -eq 0

finish
