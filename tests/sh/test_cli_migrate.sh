#!/bin/sh
# `hookdesk migrate --to URL` (issue #12): a SQLite database with sites of
# several auth kinds, messages in every status with their attempts (a body
# that is not text), a resend chain, values that need COPY's escapes and
# text that is not UTF-8, copied into a fresh PostgreSQL database: the
# counts it prints, every row of every table compared with psql, the ids
# kept and the next ones after them, the counters; a second migrate into
# the now non-empty target refused (exit 1) and changing nothing; a copy
# that fails midway leaves nothing; the wrong direction is refused (exit
# 2); a target whose tables belong to another role.  The source is always
# SQLite; the target is a database on the test server (HD_TEST_PG, which
# tests/run.sh starts; without it the test is skipped).
HD_TEST_BACKEND=sqlite
. "$(dirname "$0")/cli_common.sh"
T0=$(date +%s)
step() { echo "[$(($(date +%s) - T0))s] $*"; }

if [ -z "${HD_TEST_PG:-}" ] || ! command -v psql >/dev/null; then
    echo "SKIP: no PostgreSQL test server (HD_TEST_PG; tests/run.sh starts one)"
    exit 0
fi
# pg DATABASE SQL: psql's unaligned rows, '|' between columns.
pg() { psql "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
sq() { sqlite3 "$HD_DB" "$1"; }

start_receiver
write_config
R="http://127.0.0.1:$RX_PORT"
# The max_attempts of write_config (3) with a quick retry: Failed fast.
add() { hd sites add "$@"; expect_rc 0 "sites add $1"; }
add plain --url "$R/escape"
add basic-500 --url "$R/status/500" --auth basic --user 'us\er' --secret 'p@ss\word	tab'
add bearer-ra --url "$R/retryafter/503/3540" --auth bearer --secret 'tok\en'
add keyed --url "$R/ok" --auth header --header X-Api-Key --secret 'k3y' \
    --add-secret-header 'X-Tenant: tenant-secret' --disabled
add hm --url "$R/ok" --auth hmac --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --disabled
add jw --url "$R/ok" --auth jwt --jwt-alg HS256 --secret 'jwt-shh' \
    --jwt-claim 'iss=hook\desk' --disabled
add aws --url "$R/ok" --auth aws --region eu-west-1 --service execute-api \
    --access-key AKIDEXAMPLE --secret 'wJalrXUtnFEMI/K7MDENG' --disabled
check "seven sites" test "$(sq 'SELECT count(*) FROM sites')" -eq 7

printf '{"s": "back\\\\slash \\t tab \\n nl \\u00e9", "n": [1, 2]}' >"$TMP/p.json"
send() { hd send "$@"; expect_rc 0 "send $*"; }
send --site plain --action done.one --customer 'c\1' --payload "$TMP/p.json"; DONE=$(cat "$TMP/out")
send --site basic-500 --action failed.one --path /x/y; FAILED=$(cat "$TMP/out")
send --site bearer-ra --action resent.one; RESENT=$(cat "$TMP/out")
send --site keyed --action queued.one --customer 'tab	in'

"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve >"$TMP/serve.out" 2>"$TMP/serve.err" &
SPID=$!
settled() {
    test "$(sq "SELECT status FROM messages WHERE id = $DONE")" = 2 &&
        test "$(sq "SELECT status FROM messages WHERE id = $FAILED")" = 3 &&
        test "$(sq "SELECT status FROM messages WHERE id = $RESENT")" = 1
}
wait_for 30 settled || fail "the messages did not reach Done, Failed and Resent: $(cat "$TMP/serve.err")"
kill "$SPID"
wait "$SPID"
step "A resend chain"
# A resend chain: FAILED -> R1 -> R2 (R1 still pending: --force).
hd resend "$FAILED"; R1=$(sed -n 's/^resent [0-9]* -> \([0-9]*\)$/\1/p' "$TMP/out")
hd resend --force "$R1"; R2=$(sed -n 's/^resent [0-9]* -> \([0-9]*\)$/\1/p' "$TMP/out")
check "a resend chain" test "$(sq "SELECT resend_of FROM messages WHERE id = $R2")" = "$R1"
check "every status is there" test "$(sq 'SELECT group_concat(DISTINCT status) FROM (SELECT status FROM messages ORDER BY status)')" = "0,1,2,3"
check "the Done attempt's body is not text" test "$(sq "SELECT instr(hex(response_body), '9B') > 0 FROM attempts WHERE message_id = $DONE")" = 1
# What COPY's text format must escape, and what PostgreSQL cannot store:
# a byte that is not UTF-8 and a NUL (copied as U+FFFD, and said).
sq "UPDATE attempts SET error = 'tab' || char(9) || 'nl' || char(10) || 'cr' || char(13) || 'bs\\n\\' WHERE message_id = $FAILED AND number = 1"
sq "UPDATE attempts SET response_headers = CAST(X'582d4261643a2061ff62006321' AS TEXT) WHERE message_id = $FAILED AND number = 2"
BAD_ATTEMPT=$(sq "SELECT id FROM attempts WHERE message_id = $FAILED AND number = 2")
MAXID=$(sq 'SELECT max(id) FROM messages')

step "the wrong way"
# --- the wrong way round: exit 2, nothing touched ---
TARGET=$(pg_db_name target) || exit 1
hd migrate --help
expect_rc 0 "migrate --help"
check "migrate --help shows its usage" grep -q "^usage: hookdesk \[-c FILE\] \[--db FILE\] migrate --to URL" "$TMP/out"
hd --help
check "--help lists migrate" grep -q "^  migrate  copy the SQLite database into PostgreSQL" "$TMP/out"
hd migrate --to "$TMP/other.db"
expect_rc 2 "migrate to a SQLite file"
check "a SQLite target is refused, saying why" grep -q "migrate: --to $TMP/other.db is not a PostgreSQL database" "$TMP/err"
check "and no file was made" test ! -e "$TMP/other.db"
hd --db "$TARGET" migrate --to "$TARGET"
expect_rc 2 "migrate from PostgreSQL"
check "a PostgreSQL source is refused" grep -q "migrate: the source database is not a SQLite file" "$TMP/err"
hd migrate
expect_rc 2 "migrate without --to"
hd migrate "postgresql://u:hunter2@localhost/x"
expect_rc 2 "migrate with the target as an argument"
check "an argument is not repeated (it may hold a password)" sh -c "! grep -q hunter2 '$TMP/err'"

step "the copy"
# --- the copy ---
hd migrate --to "$TARGET password=hunter2"
expect_rc 0 "migrate"
cp "$TMP/out" "$TMP/migrate.out"
check "the password is never printed" sh -c "! grep -q hunter2 '$TMP/migrate.out' '$TMP/err'"
check "it names both sides (masked)" grep -q "^migrated $HD_DB -> postgresql://" "$TMP/migrate.out"
for t in sites messages payloads attempts actions attempt_seconds; do
    n=$(sq "SELECT count(*) FROM $t")
    check "printed: $t $n on both sides" grep -q "^$t  *$n  *$n\$" "$TMP/migrate.out"
done
check "it says one transaction" grep -q "one transaction, committed; counts match" "$TMP/migrate.out"
check "the non-UTF-8 value is reported" grep -q "migrate: 1 text value (response headers, errors) was not valid UTF-8" "$TMP/err"
check "printed status counts" grep -q "^status counts: queued 3, resent 1, done 1, failed 1\$" "$TMP/migrate.out"

# Every row, every column of every table, dumped on both sides and compared
# (booleans as 0/1, bytea as hex; one psql and one sqlite3 run: psql is
# slow to start on a busy machine).
SITE_COLS="id, name, url, content_type, timeout_ms, enabled, headers, auth_kind, auth_user, auth_secret, auth_header, auth_extra, created_at, updated_at, max_in_flight, circuit_state, circuit_failures, circuit_until, circuit_cooldown, circuit_reason"
MSG_COLS="id, webhook_id, site_id, action, customer, path, status, attempts, due_at, lease_owner, response_code, last_error, created_at, updated_at, resend_of, retry_after"
ATT_COLS="id, message_id, site_id, number, started_at, duration_ms, response_code, error, request_headers"
# dump BOOL_CAST HEX SUM: the same queries in either dialect.
dump() {
    cat <<SQL
SELECT '-- sites (secrets included)'; SELECT $(echo "$SITE_COLS" | sed "s/enabled/enabled$1/") FROM sites ORDER BY id;
SELECT '-- messages'; SELECT $MSG_COLS FROM messages ORDER BY id;
SELECT '-- payloads'; SELECT message_id, payload FROM payloads ORDER BY message_id;
SELECT '-- attempts'; SELECT $ATT_COLS, $2, body_truncated$1 FROM attempts ORDER BY id;
SELECT '-- response headers'; SELECT id, response_headers FROM attempts WHERE id <> $BAD_ATTEMPT ORDER BY id;
SELECT '-- actions'; SELECT name FROM actions ORDER BY name;
SELECT '-- attempt_seconds'; SELECT second, $3 FROM attempt_seconds GROUP BY second ORDER BY second;
SELECT '-- status counters'; SELECT status, $3 FROM status_counts GROUP BY status ORDER BY status;
SQL
}
sq "$(dump '' 'hex(response_body)' 'sum(n)')" >"$TMP/a.txt"
pg "$TARGET" "$(dump '::int' "upper(encode(response_body, 'hex'))" 'sum(n)')" >"$TMP/b.txt"
check "every table the same on both sides ($(diff "$TMP/a.txt" "$TMP/b.txt" | head -8))" cmp -s "$TMP/a.txt" "$TMP/b.txt"
check "the dump is not empty" test "$(wc -l <"$TMP/a.txt")" -gt 30
# Spelled out: a secret, the payload's bytes, the escapes, the repair, the
# counting trigger back on, the identities after the largest ids.
pg "$TARGET" "SELECT auth_secret FROM sites WHERE name = 'basic-500';
SELECT md5(payload) FROM payloads WHERE message_id = $DONE;
SELECT error = E'tab\\tnl\\ncr\\rbs\\\\n\\\\' FROM attempts WHERE message_id = $FAILED AND number = 1;
SELECT response_headers = E'X-Bad: a\\uFFFDb\\uFFFDc!' FROM attempts WHERE id = $BAD_ATTEMPT;
SELECT tgenabled FROM pg_trigger WHERE tgname = 'messages_count_insert';
SELECT string_agg((last_value = (CASE sequencename WHEN 'sites_id_seq' THEN (SELECT max(id) FROM sites) WHEN 'messages_id_seq' THEN (SELECT max(id) FROM messages) ELSE (SELECT max(id) FROM attempts) END))::text, ',' ORDER BY sequencename) FROM pg_sequences" >"$TMP/facts.txt"
fact() { sed -n "${1}p" "$TMP/facts.txt"; }
check "the secrets arrived as they were" test "$(fact 1)" = "$(printf 'p@ss\\word\ttab')"
check "the payload's bytes" test "$(fact 2)" = "$(tr -d '\n' <"$TMP/p.json" | md5sum | cut -d' ' -f1)"
check "the escapes arrived" test "$(fact 3)" = t
check "the bad bytes became U+FFFD" test "$(fact 4)" = t
check "the counting trigger is on again" test "$(fact 5)" = O
check "attempts, messages, sites: the next id follows the largest ($(fact 6))" test "$(fact 6)" = "true,true,true"

step "A message sent to"
# A message sent to the target after the migration gets the next id.
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" --db "$TARGET" send --site plain --action after >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 0 "send to the migrated database"
NEWID=$(cat "$TMP/out")
check "its id is after the copied ones ($NEWID > $MAXID)" test "${NEWID:-0}" -gt "$MAXID"

step "a second migrate"
# --- a second migrate into the now non-empty target: refused, unchanged ---
fingerprint() {
    pg "$TARGET" "SELECT (SELECT count(*) FROM sites), (SELECT count(*) FROM messages), (SELECT count(*) FROM attempts), (SELECT count(*) FROM actions), (SELECT sum(n) FROM status_counts), (SELECT string_agg(last_value::text, ',') FROM pg_sequences)"
}
BEFORE=$(fingerprint)
hd migrate --to "$TARGET"
expect_rc 1 "a second migrate into the same target"
check "refused, saying why" grep -q "migrate: the target postgresql://.* already holds 7 sites and messages: migrate copies into an empty database only; nothing was changed" "$TMP/err"
check "the target is unchanged" test "$(fingerprint)" = "$BEFORE"

step "a copy that fails"
# --- a copy that fails midway (a trigger refuses attempts) leaves nothing ---
BROKEN=$(pg_db_name broken) || exit 1
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" --db "$TMP/empty.db" migrate --to "$BROKEN" >/dev/null 2>"$TMP/err" ||
    fail "migrate of an empty database: $(cat "$TMP/err")"
pg "$BROKEN" "CREATE FUNCTION no_attempts() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'no attempts here'; END \$\$; CREATE TRIGGER refuse BEFORE INSERT ON attempts FOR EACH ROW EXECUTE FUNCTION no_attempts()"
hd migrate --to "$BROKEN"
expect_rc 1 "a migrate that fails while copying attempts"
check "the error names the table and the cause" grep -q "migrate: copying attempts: .*no attempts here" "$TMP/err"
check "and says nothing was copied" grep -q "nothing was copied (the copy is one transaction)" "$TMP/err"
check "nothing is left in the target" test "$(pg "$BROKEN" "SELECT (SELECT count(*) FROM sites) + (SELECT count(*) FROM messages) + (SELECT count(*) FROM payloads) + (SELECT sum(n) FROM status_counts)")" -eq 0
check "its counting trigger is still on" test "$(pg "$BROKEN" "SELECT tgenabled FROM pg_trigger WHERE tgname = 'messages_count_insert'")" = O

step "a target whose"
# --- a target whose tables belong to another role: the counters are kept
# by their trigger, the result is the same ---
ROLE="hd_app_$$"
SHARED=$(pg_db_name shared) || exit 1
"$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" --db "$TMP/empty.db" migrate --to "$SHARED" >/dev/null 2>"$TMP/err" ||
    fail "migrate of an empty database: $(cat "$TMP/err")"
pg_admin "CREATE ROLE $ROLE LOGIN"
pg "$SHARED" "GRANT CREATE ON SCHEMA public TO $ROLE; GRANT ALL ON ALL TABLES IN SCHEMA public TO $ROLE; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO $ROLE"
hd migrate --to "$(echo "$SHARED" | sed "s/user=[^ ]*/user=$ROLE/")"
expect_rc 0 "migrate as a role that does not own the tables"
check "it says the counters were kept row by row" grep -q "^note: the target's tables belong to another role" "$TMP/out"
check "the counters are right all the same" test "$(pg "$SHARED" "SELECT string_agg(n::text, ',' ORDER BY status) FROM (SELECT status, sum(n) n FROM status_counts GROUP BY status) s")" = "$(sq "SELECT group_concat(n, ',') FROM (SELECT n FROM status_counts ORDER BY status)")"
check "every message is there" test "$(pg "$SHARED" "SELECT count(*) FROM messages")" -eq "$(sq 'SELECT count(*) FROM messages')"
pg "$SHARED" "DROP OWNED BY $ROLE"
pg_admin "DROP ROLE $ROLE"

step "a bigger"
# --- a bigger database: rows per second (MIGRATE_BULK messages, 2000 by
# default to keep the test fast; 20000 for a measure) ---
N=${MIGRATE_BULK:-2000}
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"site\":\"keyed\",\"action\":\"bulk.%d\",\"customer\":\"c%d\",\"payload\":{\"i\":%d,\"text\":\"some words to make a payload of a realistic size, with an escape \\\\ and a tab \\t\"}}\n", i % 7, i, i }' >"$TMP/bulk.jsonl"
hd import "$TMP/bulk.jsonl"
expect_rc 0 "import of $N messages"
BULK=$(pg_db_name bulk) || exit 1
hd migrate --to "$BULK"
expect_rc 0 "migrate of $N more messages"
check "all of them arrived" test "$(pg "$BULK" "SELECT count(*) FROM messages")" -eq "$(sq 'SELECT count(*) FROM messages')"
echo "bulk: $(tail -1 "$TMP/out")"

finish
