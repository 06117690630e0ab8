#!/bin/sh
# sites add/edit/remove/list/export/import/test; invalid input saves nothing;
# secrets never printed unless asked; max in flight (flags, list, export,
# import) and the circuit breaker as `sites list`, `queue` and `show` show
# it once a dead site's circuit opens for real; a Retry-After wait; an
# encrypted RS256 key refused without a prompt, at save and at delivery; a
# form-encoded site delivering the edge of what send accepts; private
# targets in every IPv6 spelling refused; `sites import` and ${VAR}.
. "$(dirname "$0")/cli_common.sh"

start_receiver
write_config
SECRET=s3cr3t-token-value
HMAC=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

# --- invalid input: field named, exit 2, nothing saved ---
hd sites add bad --url ftp://example.com/x
expect_rc 2 "sites add with an ftp url"
check "url field named" grep -q "sites add: url: " "$TMP/err"
check "and the flag that sets it" grep -q "(set with --url)" "$TMP/err"
hd sites list --format json
check "no site saved after bad url" test "$(count_lines "$TMP/out")" -eq 0
hd sites add bad --url http://example.com --auth bearer
expect_rc 2 "bearer without a secret"
check "secret field named as in the configuration, not auth_secret (issue #11)" grep -q "sites add: auth.token: " "$TMP/err"
hd sites add bad --url http://example.com --auth basic
expect_rc 2 "basic without a user"
check "user field named as in the configuration, not auth_user (issue #11)" \
    grep -q "sites add: auth.user: is required for basic auth (set with --user)" "$TMP/err"
hd sites add 'bad name!' --url http://example.com
expect_rc 2 "bad site name"
check "name field named" grep -q "sites add: name: " "$TMP/err"
hd sites add nourl
expect_rc 2 "sites add without --url"
hd sites list --format json
check "still no site saved" test "$(count_lines "$TMP/out")" -eq 0

# --- add ---
hd sites add rx --url "http://127.0.0.1:$RX_PORT/ok" --auth bearer --secret "$SECRET" \
    --add-header 'X-Source: hookdesk' --timeout 2s
expect_rc 0 "sites add rx"
hd sites add hm --url "http://127.0.0.1:$RX_PORT/ok" --auth hmac --secret "$HMAC" --disabled
expect_rc 0 "sites add hm"
hd sites add rx --url http://example.com
expect_rc 1 "duplicate site name"

# --- list: no secret ---
hd sites list
expect_rc 0 "sites list"
check "list header" grep -q "^NAME  *URL  *AUTH  *ENABLED  *MAX_IN_FLIGHT  *PENDING  *SUCCESS  *CIRCUIT$" "$TMP/out"
check "list row rx" grep -q "^rx  *http://127.0.0.1:$RX_PORT/ok  *bearer  *yes  *4 (default)  *0  *-  *closed$" "$TMP/out"
check "list row hm paused" grep -q "^hm  .*hmac  *no" "$TMP/out"
check "list shows no secret" sh -c "! grep -q '$SECRET' '$TMP/out'"
hd sites list --format json
check "json list has no secret" sh -c "! grep -q -e '$SECRET' -e '$HMAC' '$TMP/out'"
check "json list fields" grep -q '"name":"rx","url":"http://127.0.0.1:'"$RX_PORT"'/ok","auth":"bearer"' "$TMP/out"
hd sites list --format csv
check "csv list header" sh -c "tr -d '\\r' <'$TMP/out' | grep -q '^name,url,auth,enabled,max_in_flight,max_in_flight_default,pending,success,circuit,circuit_failures,next_probe_at,circuit_reason\$'"
check "csv list" sh -c "tr -d '\\r' <'$TMP/out' | grep -q '^rx,http://127.0.0.1:$RX_PORT/ok,bearer,yes,4,yes,0,-,closed,0,,\$'"

# --- edit ---
hd sites edit hm --enable --timeout 3s
expect_rc 0 "sites edit --enable"
hd sites list
check "edit enabled hm" grep -q "^hm  .*hmac  *yes" "$TMP/out"
hd sites edit hm --url gopher://x
expect_rc 2 "sites edit with a bad url"
check "edit names the url field" grep -q "sites edit: url: " "$TMP/err"
hd sites list --format json
check "bad edit changed nothing" grep -q "\"name\":\"hm\",\"url\":\"http://127.0.0.1:$RX_PORT/ok\"" "$TMP/out"
hd sites edit nosuch --enable
expect_rc 1 "edit of a missing site"
hd sites edit hm --rename hm2
expect_rc 0 "sites edit --rename"
hd sites list --format json
check "renamed" grep -q '"name":"hm2"' "$TMP/out"

# --- test against the receiver ---
hd sites test rx
expect_rc 0 "sites test rx"
check "test shows the code" grep -q "HTTP 200" "$TMP/out"
check "test shows masked auth" grep -qi "authorization: Bearer \*\*\*\*\*\*\*\*" "$TMP/out"
check "test never shows the secret" sh -c "! grep -q '$SECRET' '$TMP/out' '$TMP/err'"
check "receiver saw the real token" grep -q "Bearer $SECRET" "$RX_LOG"
hd sites add down --url "http://127.0.0.1:$RX_PORT/status/503"
hd sites test down
expect_rc 1 "sites test of a 503 site"
check "503 shown" grep -q "HTTP 503" "$TMP/out"

# --- export: masked by default, secrets only when asked ---
hd sites export
expect_rc 0 "sites export"
cp "$TMP/out" "$TMP/export.yaml"
check "export is a sites: list" grep -q "^sites:" "$TMP/export.yaml"
check "export masks secrets" grep -q 'token: "\*\*\*\*\*\*\*\*"' "$TMP/export.yaml"
check "export has no secret" sh -c "! grep -q -e '$SECRET' -e '$HMAC' '$TMP/export.yaml'"
check "export keeps headers" grep -q '"X-Source": "hookdesk"' "$TMP/export.yaml"
hd sites export --show-secrets
check "--show-secrets shows them" grep -q "$SECRET" "$TMP/out"

# --- import: round trip of a masked export keeps the stored secrets ---
sed 's/"X-Source": "hookdesk"/"X-Source": "imported"/' "$TMP/export.yaml" >"$TMP/import.yaml"
cat >>"$TMP/import.yaml" <<YAML
  - name: fresh
    url: http://127.0.0.1:$RX_PORT/fresh
    auth:
      kind: header
      header: X-Api-Key
      value: key-123
YAML
hd sites import "$TMP/import.yaml"
expect_rc 0 "sites import"
check "import counts" grep -q "imported 4 sites (1 added, 3 updated)" "$TMP/out"
hd sites export --show-secrets
check "import updated a header" grep -q '"X-Source": "imported"' "$TMP/out"
check "import kept the masked secret" grep -q "token: \"$SECRET\"" "$TMP/out"
check "import added a site" grep -q 'name: "fresh"' "$TMP/out"
printf 'sites:\n  - name: x\n    url: nope\n' >"$TMP/badimport.yaml"
hd sites import "$TMP/badimport.yaml"
expect_rc 2 "sites import of an invalid site"
hd sites list --format json
check "bad import saved nothing" test "$(count_lines "$TMP/out")" -eq 4

# --- remove ---
hd sites remove down
expect_rc 0 "sites remove"
hd sites remove down
expect_rc 1 "sites remove of a missing site"
hd sites list --format json
check "removed" sh -c "! grep -q '\"name\":\"down\"' '$TMP/out'"
# --- credential headers are masked like secrets, and survive an export/import ---
hd sites add keyed --url "http://127.0.0.1:$RX_PORT/ok" --add-header 'X-Api-Key: k3y-v4lue-123' \
    --add-header 'X-Plain: visible'
expect_rc 0 "add a site with a credential header"
hd sites list --format json
check "json list masks the credential header" sh -c "! grep -q 'k3y-v4lue-123' '$TMP/out'"
check "json list keeps a plain header" grep -q '"X-Plain":"visible"' "$TMP/out"
hd sites export
check "export masks the credential header" sh -c "! grep -q 'k3y-v4lue-123' '$TMP/out' && grep -q '\"X-Api-Key\": \"\*\*\*\*\*\*\*\*\"' '$TMP/out'"
cp "$TMP/out" "$TMP/keyed-export.yaml"
hd sites import "$TMP/keyed-export.yaml"
expect_rc 0 "import of a masked export"
hd sites export --show-secrets
check "the stored header value was kept" grep -q 'k3y-v4lue-123' "$TMP/out"

# --- max in flight: --max-in-flight N (1..256, or 'default'); bad values change nothing ---
json_of() { grep "\"name\":\"$1\"" "$TMP/out"; }
hd sites add mif --url "http://127.0.0.1:$RX_PORT/ok" --max-in-flight 3
expect_rc 0 "sites add --max-in-flight 3"
hd sites list
check "list shows the configured max in flight" grep -q "^mif  .* none  *yes  *3  *0  *-  *closed$" "$TMP/out"
hd sites list --format json
check "json: the configured value, not the default" sh -c "grep '\"name\":\"mif\"' '$TMP/out' | grep -q '\"max_in_flight\":3,\"max_in_flight_default\":false'"
check "json: a site without one gets half of delivery.concurrency" sh -c "grep '\"name\":\"rx\"' '$TMP/out' | grep -q '\"max_in_flight\":4,\"max_in_flight_default\":true'"
check "json: a closed circuit" sh -c "grep '\"name\":\"mif\"' '$TMP/out' | grep -q '\"circuit\":{\"state\":\"closed\",\"failures\":0,\"reason\":null,\"next_probe_at\":null,\"cooldown_ms\":null}'"
for bad in 0 -1 257 2x 1.5 "" " 3" +3 99999999999999999999; do
    hd sites edit mif --max-in-flight "$bad"
    expect_rc 2 "sites edit --max-in-flight '$bad'"
    check "'$bad' is refused naming the field" grep -q "^hookdesk: sites edit: max_in_flight: must be a whole number from 1 to 256, or 'default'" "$TMP/err"
done
hd sites add mif0 --url "http://127.0.0.1:$RX_PORT/ok" --max-in-flight 0
expect_rc 2 "sites add --max-in-flight 0"
check "add names the field" grep -q "sites add: max_in_flight: must be" "$TMP/err"
hd sites list --format json
check "the refused add saved nothing" sh -c "! grep -q '\"name\":\"mif0\"' '$TMP/out'"
check "the refused edits changed nothing" sh -c "grep '\"name\":\"mif\"' '$TMP/out' | grep -q '\"max_in_flight\":3,'"
hd sites edit mif --max-in-flight default
expect_rc 0 "sites edit --max-in-flight default"
hd sites list
check "back to the default" grep -q "^mif  .* none  *yes  *4 (default)  *0" "$TMP/out"
hd sites edit mif --max-in-flight 256
expect_rc 0 "sites edit --max-in-flight 256"
# export writes it, import keeps it (and puts it back after a change)
hd sites export
check "export writes max_in_flight" sh -c "grep -A4 'name: \"mif\"' '$TMP/out' | grep -q '^    max_in_flight: 256\$'"
check "export leaves out a default one" sh -c "! grep -A4 'name: \"rx\"' '$TMP/out' | grep -q max_in_flight"
cp "$TMP/out" "$TMP/mif-export.yaml"
hd sites edit mif --max-in-flight 7
hd sites import "$TMP/mif-export.yaml"
expect_rc 0 "import of the export"
hd sites list --format json
check "import put max_in_flight back" sh -c "grep '\"name\":\"mif\"' '$TMP/out' | grep -q '\"max_in_flight\":256,\"max_in_flight_default\":false'"
printf 'sites:\n  - name: mif\n    url: http://127.0.0.1:%s/ok\n    max_in_flight: 0\n' "$RX_PORT" >"$TMP/mif0.yaml"
hd sites import "$TMP/mif0.yaml"
expect_rc 2 "import with max_in_flight: 0"
check "the import error points at the value" grep -q "mif0.yaml:4:20: sites\[0\].max_in_flight: 0 is out of range (1..256" "$TMP/err"
hd sites list --format json
check "the refused import changed nothing" sh -c "grep '\"name\":\"mif\"' '$TMP/out' | grep -q '\"max_in_flight\":256,'"

# --- the circuit breaker, for real: a dead site (nothing listens on port 9),
# breaker.failures 2; and a receiver asking for 59 minutes with Retry-After ---
cat >"$TMP/breaker.yaml" <<YAML
database: $HD_DB
network: {allow_private: true}
delivery:
  retry_interval: 50ms
  max_attempts: 5
  timeout: 5s
  breaker: {failures: 2, cooldown: 5m}
YAML
hdb() {
    "$HOOKDESK_BIN" -c "$TMP/breaker.yaml" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}
hdb sites add dead --url http://127.0.0.1:9/
hdb sites add slow-down --url "http://127.0.0.1:$RX_PORT/retryafter/429/3540"
for i in 1 2 3; do hdb send --site dead --action "dead.$i"; done
hdb send --site slow-down --action later
LATER=$(cat "$TMP/out")
"$HOOKDESK_BIN" -c "$TMP/breaker.yaml" serve >"$TMP/serve.out" 2>"$TMP/serve.err" &
SPID=$!
opened() {
    hdb sites list --format json
    grep '"name":"dead"' "$TMP/out" | grep -q '"state":"open"' || return 1
    hdb logs --site slow-down --format json
    grep -q '"attempts":1' "$TMP/out"
}
deadline=$(($(date +%s) + 20))
until opened; do
    [ "$(date +%s)" -ge "$deadline" ] && { fail "the circuit did not open: $(cat "$TMP/serve.err")"; break; }
    sleep 0.1
done
kill "$SPID" 2>/dev/null
wait "$SPID"
check "serve logged the opening" grep -q "site dead: circuit open" "$TMP/serve.err"
hdb sites list
check "list: open, probe countdown and why" grep -q "^dead  .*none  *yes  *4 (default)  *3  *0%  *open, probe in [0-9].*: .*port 9" "$TMP/out"
hdb sites list --format json
check "json circuit" sh -c "grep '\"name\":\"dead\"' '$TMP/out' | grep -q '\"circuit\":{\"state\":\"open\",\"failures\":[2-9],\"reason\":\"[^\"]*port 9[^\"]*\",\"next_probe_at\":\"20[0-9-]*T[0-9:]*Z\",\"cooldown_ms\":300000}'"
hdb sites list --format csv
check "csv circuit" sh -c "tr -d '\\r' <'$TMP/out' | grep -q '^dead,http://127.0.0.1:9/,none,yes,4,yes,3,0%,open,[2-9],20[0-9-]*T[0-9:]*Z,.*port 9'"
hdb queue
expect_rc 0 "queue"
check "queue: the dead site's messages wait for the probe" test "$(grep -c '  dead  .*circuit open, probe in [0-9]' "$TMP/out")" -eq 3
check "queue: the Retry-After wait" grep -q "^ *$LATER  *slow-down  *0  *Resent  *5[89]m[0-9s]* (Retry-After)$" "$TMP/out"
hdb queue --format json
check "queue json: held by the circuit" test "$(grep -c '"circuit":"open","next_probe_at":"[^"]*","held_by_circuit":true' "$TMP/out")" -eq 3
check "queue json: the Retry-After" grep -q "\"id\":$LATER,.*\"retry_after_ms\":35[0-9][0-9][0-9][0-9][0-9],\"circuit\":\"closed\"" "$TMP/out"
hdb show "$LATER"
check "show: Retry-After" grep -q "^Next: .*(in 5[89]m.*, as the receiver asked with Retry-After)" "$TMP/out"
hdb logs --site dead --format json
DEAD1=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$TMP/out" | tail -1)
hdb show "$DEAD1"
check "show: circuit open" grep -q "^Next: *circuit open, probe in [0-9]" "$TMP/out"
hdb logs --status failed --format json
check "no attempt was spent while open (none Failed)" test "$(count_lines "$TMP/out")" -eq 0
# With the breaker off (failures: 0) engines do not look at circuits: the
# Queue gives the countdown.
sed 's/failures: 2/failures: 0/' "$TMP/breaker.yaml" >"$TMP/off.yaml"
"$HOOKDESK_BIN" -c "$TMP/off.yaml" queue >"$TMP/out" 2>"$TMP/err"
check "breaker off: no circuit in the queue" sh -c "! grep -q circuit '$TMP/out' && grep -q '  dead  ' '$TMP/out'"

# --- a fresh database for what follows (the one above keeps messages
# waiting on an open circuit and a 59 min Retry-After) ---
SECOND_DB=$(db_name second) || exit 1
cat >"$TMP/hookdesk.yaml" <<YAML
database: $SECOND_DB
delivery: {retry_interval: 50ms, max_attempts: 3, timeout: 5s}
network: {allow_private: true}
YAML

# --- an encrypted RS256 key never waits for a passphrase (issue #10) ---
# OpenSSL prompts on the terminal for an encrypted PEM unless told not to;
# every command here runs with stdin from a pipe, no controlling terminal
# (setsid when there is one) and a timeout, and must answer at once.
NOTTY=""
setsid --help 2>&1 | grep -q -- --wait && NOTTY="setsid -w"
# quick CMD...: runs hookdesk like hd, stdin a pipe, 30 s at most; sets
# RC and SECS (wall time).
quick() {
    t0=$(date +%s)
    : | timeout 30 $NOTTY "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    SECS=$(($(date +%s) - t0))
}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/plain.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:x \
    -out "$TMP/enc8.pem" 2>/dev/null
openssl pkey -in "$TMP/plain.pem" -traditional -aes256 -passout pass:x -out "$TMP/enctrad.pem" \
    2>/dev/null || openssl rsa -in "$TMP/plain.pem" -aes256 -passout pass:x -out "$TMP/enctrad.pem" 2>/dev/null
check "test key: PKCS#8 encrypted" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$TMP/enc8.pem"
check "test key: traditional encrypted" grep -q "Proc-Type: 4,ENCRYPTED" "$TMP/enctrad.pem"
for k in enc8 enctrad; do
    quick sites add "jwt-$k" --url "http://127.0.0.1:$RX_PORT/ok" --auth jwt --jwt-alg RS256 \
        --jwt-key-file "$TMP/$k.pem"
    expect_rc 2 "sites add with the encrypted key $k.pem"
    check "$k: refused at once (${SECS}s)" test "$SECS" -lt 10
    check "$k: the error names the field and says why" grep -q "^hookdesk: sites add: auth.key_file: the key in $TMP/$k.pem is encrypted (passphrase-protected); hookdesk needs an unencrypted PEM key" "$TMP/err"
done
HD_ENC_KEY=$(cat "$TMP/enc8.pem") quick sites add jwt-env --url "http://127.0.0.1:$RX_PORT/ok" \
    --auth jwt --jwt-alg RS256 --jwt-key-env HD_ENC_KEY
expect_rc 2 "sites add with an encrypted key in an environment variable"
check "env: refused at once" test "$SECS" -lt 10
check "env: the error names the variable" grep -q "auth.key_env: the key in HD_ENC_KEY is encrypted" "$TMP/err"
hd sites list --format json
check "no site saved with an encrypted key" sh -c "! grep -q '\"name\":\"jwt-' '$TMP/out'"
# At delivery: a key file replaced by an encrypted one is an attempt error.
cp "$TMP/plain.pem" "$TMP/rotating.pem"
quick sites add jwt-rot --url "http://127.0.0.1:$RX_PORT/jwt" --auth jwt --jwt-alg RS256 \
    --jwt-key-file "$TMP/rotating.pem"
expect_rc 0 "sites add with an unencrypted key"
cp "$TMP/enc8.pem" "$TMP/rotating.pem"
quick send --site jwt-rot --action key.rotated
JWT_ID=$(cat "$TMP/out")
quick serve --drain
check "serve --drain with an encrypted key ends (exit $RC, ${SECS}s)" test "$RC" -ne 124 -a "$SECS" -lt 25
hd show "$JWT_ID" --format json
check "the attempt failed on the encrypted key" grep -q "auth.key_file: the key in $TMP/rotating.pem is encrypted" "$TMP/out"
check "the message failed after its attempts" grep -q '"status":"failed"' "$TMP/out"
check "nothing was sent without a token" sh -c "! grep -q '\"path\":\"/jwt\"' '$RX_LOG'"

# --- one JSON rule: a form-encoded site delivers the edge of what send accepts ---
hd sites add form --url "http://127.0.0.1:$RX_PORT/form" \
    --content-type application/x-www-form-urlencoded
expect_rc 0 "sites add form"
printf '%s' '{"max": 9223372036854775807, "min": -9223372036854775808, "e": "\ud83d\ude00", "r": 1e308, "c": "a\u0001"}' >"$TMP/edge.json"
hd send --site form --action edge --payload "$TMP/edge.json"
expect_rc 0 "send of the edge payload"
FORM_ID=$(cat "$TMP/out")
quick serve --drain
hd show "$FORM_ID" --format json
check "the form site got the edge payload (Done)" grep -q '"status":"done"' "$TMP/out"
check "the receiver saw the form body" grep -q 'max=9223372036854775807&min=-9223372036854775808&e=%F0%9F%98%80&r=1e%2B308&c=a%01' "$RX_LOG"
for bad in '{"s": "\ud800"}' '{"s": "\u0000"}' '{"n": 9223372036854775808}' '{"r": -1e309}'; do
    printf '%s' "$bad" >"$TMP/bad-edge.json"
    hd send --site form --action never --payload "$TMP/bad-edge.json"
    expect_rc 2 "send to the form site of $bad"
done
hd logs --site form --format json
check "nothing undeliverable was queued" test "$(count_lines "$TMP/out")" -eq 1

# --- private targets in every spelling are refused (issue #10) ---
GUARDED_DB=$(db_name guarded) || exit 1
cat >"$TMP/guarded.yaml" <<YAML
database: $GUARDED_DB
YAML
for u in "http://[::127.0.0.1]:$RX_PORT/ok" "http://[::ffff:127.0.0.1]:$RX_PORT/ok" \
         "http://[::ffff:0:7f00:1]:$RX_PORT/ok" "http://[2002:7f00:1::1]:$RX_PORT/ok" \
         "http://[64:ff9b::7f00:1]:$RX_PORT/ok" "http://[64:ff9b:1::1]:$RX_PORT/ok" \
         "http://[fec0::1]:$RX_PORT/ok" "http://198.18.0.1:$RX_PORT/ok" "http://192.0.0.1:$RX_PORT/ok"; do
    "$HOOKDESK_BIN" -c "$TMP/guarded.yaml" sites remove g >/dev/null 2>&1
    "$HOOKDESK_BIN" -c "$TMP/guarded.yaml" sites add g --url "$u" >/dev/null 2>"$TMP/err"
    : | timeout 30 "$HOOKDESK_BIN" -c "$TMP/guarded.yaml" sites test g >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_rc 1 "sites test of $u"
    check "$u refused as private" grep -q "refused to connect to private address" "$TMP/err"
done

# --- sites import: ${VAR} from the environment only with --expand-env ---
cat >"$TMP/env-import.yaml" <<'YAML'
sites:
  - name: fromenv
    url: http://127.0.0.1:${HD_TEST_RX_PORT}/ok
    headers:
      X-Literal: "$${NOT_A_VAR}"
YAML
HD_TEST_RX_PORT=$RX_PORT
export HD_TEST_RX_PORT
hd sites import "$TMP/env-import.yaml"
expect_rc 2 "sites import of a file with \${VAR}, without --expand-env"
check "the refusal names file:line:col, the variable and the flag" grep -q "env-import.yaml:3:[0-9]*: sites\[0\].url: '\${HD_TEST_RX_PORT}' would read the environment variable HD_TEST_RX_PORT: pass --expand-env" "$TMP/err"
hd sites list --format json
check "nothing imported without --expand-env" sh -c "! grep -q '\"name\":\"fromenv\"' '$TMP/out'"
hd sites import --expand-env "$TMP/env-import.yaml"
expect_rc 0 "sites import --expand-env"
hd sites list --format json
check "--expand-env expanded the url" grep -q "\"name\":\"fromenv\",\"url\":\"http://127.0.0.1:$RX_PORT/ok\"" "$TMP/out"
check "\$\${ is a literal \${" grep -q '"X-Literal":"${NOT_A_VAR}"' "$TMP/out"
cat >"$TMP/literal-import.yaml" <<'YAML'
sites:
  - name: literal
    url: http://127.0.0.1:9/ok
    headers:
      X-Literal: "$${HOME}"
YAML
hd sites import "$TMP/literal-import.yaml"
expect_rc 0 "sites import of a file with only \$\${ literals needs no flag"
hd sites list --format json
check "the literal stays a literal" grep -q '"name":"literal".*"X-Literal":"${HOME}"' "$TMP/out"
hd sites import --expand-env
expect_rc 2 "sites import --expand-env without a file"
hd sites import --bogus "$TMP/literal-import.yaml"
expect_rc 2 "sites import with an unknown option"

hd sites frob
expect_rc 2 "unknown sites subcommand"

finish
