#!/bin/sh
# sites add/edit/remove/list/export/import/test; invalid input saves nothing;
# secrets never printed unless asked.
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
check "secret field named" grep -q "sites add: auth_secret: " "$TMP/err"
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
check "list header" grep -q "^NAME  *URL  *AUTH  *ENABLED  *PENDING  *SUCCESS" "$TMP/out"
check "list row rx" grep -q "^rx  *http://127.0.0.1:$RX_PORT/ok  *bearer  *yes" "$TMP/out"
check "list row hm paused" grep -q "^hm  .*hmac  *no" "$TMP/out"
check "list shows no secret" sh -c "! grep -q '$SECRET' '$TMP/out'"
hd sites list --format json
check "json list has no secret" sh -c "! grep -q -e '$SECRET' -e '$HMAC' '$TMP/out'"
check "json list fields" grep -q '"name":"rx","url":"http://127.0.0.1:'"$RX_PORT"'/ok","auth":"bearer"' "$TMP/out"
hd sites list --format csv
check "csv list" sh -c "tr -d '\\r' <'$TMP/out' | grep -q '^rx,http://127.0.0.1:$RX_PORT/ok,bearer,yes,0,-\$'"

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

hd sites frob
expect_rc 2 "unknown sites subcommand"

finish
