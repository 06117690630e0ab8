#!/bin/sh
# sites add/edit/test/export/import for jwt, oauth2, aws, aws-s3 (and a
# change of kind, which keeps what the two kinds share): bad
# settings refused with the field named and nothing saved (CLI and YAML),
# secrets never printed, `sites test` shows masked headers and the answer.
. "$(dirname "$0")/cli_common.sh"

start_receiver
write_config
BASE="http://127.0.0.1:$RX_PORT"

nsites() {
    hd sites list --format json
    count_lines "$TMP/out"
}

# --- help lists the kinds' flags ---
"$HOOKDESK_BIN" sites add --help >"$TMP/out" 2>&1
for flag in --jwt-alg --jwt-key-file --jwt-claim --token-url --client-id --region --bucket \
    --object-format --session-token; do
    check "help mentions $flag" grep -q -- "$flag" "$TMP/out"
done

# --- bad settings: exit 2, field named, nothing saved ---
hd sites add j --url "$BASE/j" --auth jwt --jwt-alg HS512 --secret x
expect_rc 2 "unknown jwt algorithm"
check "alg named" grep -q "sites add: auth.alg: unknown algorithm 'HS512'" "$TMP/err"
hd sites add j --url "$BASE/j" --auth jwt --jwt-alg RS256 --jwt-key-file "$TMP/missing.pem"
expect_rc 2 "missing key file"
check "key file named" grep -q "sites add: auth.key_file: cannot read $TMP/missing.pem" "$TMP/err"
echo "not a key" >"$TMP/bad.pem"
hd sites add j --url "$BASE/j" --auth jwt --jwt-alg RS256 --jwt-key-file "$TMP/bad.pem"
expect_rc 2 "invalid PEM"
check "invalid PEM named" grep -q "auth.key_file: .*does not hold a PEM private key" "$TMP/err"
hd sites add o --url "$BASE/o" --auth oauth2 --token-url "not a url" --client-id c --secret s
expect_rc 2 "malformed token url"
check "token url named" grep -q "sites add: auth.token_url: " "$TMP/err"
hd sites add s --url "$BASE" --auth aws-s3 --access-key AK --secret sk --region eu-west-1
expect_rc 2 "s3 without bucket"
check "bucket named" grep -q "sites add: auth.bucket: is required" "$TMP/err"
hd sites add o --url "$BASE/o" --auth bearer --secret t --bucket b
expect_rc 2 "flag of another kind"
check "flag kind named" grep -q "\-\-bucket is for auth aws-s3, not bearer" "$TMP/err"
check "nothing saved" test "$(nsites)" -eq 0

# --- add the four kinds ---
printf 'client-secret-value\n' | "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" sites add oa \
    --url "$BASE/oauth/cli/protected" --auth oauth2 --token-url "$BASE/oauth/cli/token" \
    --client-id hookdesk --secret - --scope "hooks:write" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 0 "add oauth2 (secret from stdin)"
hd sites add jw --url "$BASE/jwt" --auth jwt --secret jwt-shared-secret --jwt-claim iss=hookdesk \
    --jwt-claim aud=billing --jwt-lifetime 2m
expect_rc 0 "add jwt"
hd sites add aw --url "$BASE/aws" --auth aws --access-key AKIDEXAMPLE --secret aws-secret-value \
    --region eu-west-1 --service execute-api --session-token session-token-value
expect_rc 0 "add aws"
hd sites add s3 --url "$BASE" --auth aws-s3 --access-key AKIDS3 --secret s3-secret-value \
    --region us-east-1 --bucket archive --object-format '{action}/{id}.json'
expect_rc 0 "add aws-s3"
check "four sites" test "$(nsites)" -eq 4

# --- test: masked headers and the answer ---
hd sites test oa
expect_rc 0 "sites test oauth2"
check "oauth2 bearer masked" grep -q "^> Authorization: Bearer \*\*\*\*\*\*\*\*" "$TMP/out"
check "oauth2 answer" grep -q "^< HTTP 200" "$TMP/out"
check "token was fetched" grep -q '"/oauth/cli/token"' "$RX_LOG"
hd sites test jw
expect_rc 0 "sites test jwt"
check "jwt masked" grep -q "^> Authorization: Bearer \*\*\*\*\*\*\*\*" "$TMP/out"
hd sites test aw
expect_rc 0 "sites test aws"
check "session token masked" grep -q "^> x-amz-security-token: \*\*\*\*\*\*\*\*" "$TMP/out"
hd sites test s3
expect_rc 0 "sites test s3"
check "s3 PUT line" grep -q "^PUT $BASE/archive/ping/0.json" "$TMP/out"
check "s3 PUT received" grep -q '"method":"PUT","path":"/archive/ping/0.json"' "$RX_LOG"
for secret in client-secret-value jwt-shared-secret aws-secret-value session-token-value \
    s3-secret-value; do
    hd sites list --format json
    check "list hides $secret" sh -c "! grep -q '$secret' '$TMP/out'"
    hd sites export
    check "export hides $secret" sh -c "! grep -q '$secret' '$TMP/out'"
done

# --- a failing token endpoint: the test says so ---
hd sites edit oa --token-url "$BASE/oauth/cli/token?fail=500"
expect_rc 0 "edit token url"
hd sites test oa
expect_rc 1 "test with a failing token endpoint"
check "token endpoint error" grep -q "oauth2: token endpoint $BASE/oauth/cli/token?fail=500: HTTP 500" "$TMP/err"

# --- export / import round trip keeps the stored secrets ---
hd sites edit oa --token-url "$BASE/oauth/cli/token"
hd sites export
expect_rc 0 "export"
cp "$TMP/out" "$TMP/export.yaml"
check "export has claims" grep -q 'claims: {"iss": "hookdesk", "aud": "billing"}' "$TMP/export.yaml"
check "export has lifetime" grep -q 'lifetime: 2m' "$TMP/export.yaml"
check "export masks session token" grep -q 'session_token: "\*\*\*\*\*\*\*\*"' "$TMP/export.yaml"
hd sites import "$TMP/export.yaml"
expect_rc 0 "import the export"
hd sites export --show-secrets
check "session token kept" grep -q 'session_token: "session-token-value"' "$TMP/out"
check "client secret kept" grep -q 'client_secret: "client-secret-value"' "$TMP/out"
# A masked setting cannot follow the site into another auth kind.
cat >"$TMP/kind.yaml" <<YAML
sites:
  - name: aw
    url: $BASE/aws
    auth:
      kind: aws-s3
      access_key: AKIDEXAMPLE
      secret_key: new-s3-secret
      region: eu-west-1
      bucket: archive
      session_token: "********"
YAML
hd sites import "$TMP/kind.yaml"
expect_rc 2 "import: masked session token with a new auth kind"
check "masked setting + kind change named" grep -q "site 'aw': an auth setting is masked" "$TMP/err"
hd sites export --show-secrets
check "session token untouched after the refused import" grep -q 'session_token: "session-token-value"' "$TMP/out"

# --- a change of kind keeps what the two kinds share (the form keeps the same) ---
# site_block NAME: the site's part of $TMP/out (an export).
site_block() {
    awk -v want="  - name: \"$1\"" '$0 == want { p = 1; print; next } /^  - name: / { p = 0 } p' \
        "$TMP/out" >"$TMP/block.yaml"
}
hd sites edit aw --auth aws-s3 --bucket archive2
expect_rc 0 "edit aws -> aws-s3"
hd sites export --show-secrets
site_block aw
check "aw is aws-s3" grep -q 'kind: aws-s3' "$TMP/block.yaml"
check "aws -> aws-s3 keeps the region" grep -q 'region: "eu-west-1"' "$TMP/block.yaml"
check "aws -> aws-s3 keeps the access key" grep -q 'access_key: "AKIDEXAMPLE"' "$TMP/block.yaml"
check "aws -> aws-s3 keeps the secret key" grep -q 'secret_key: "aws-secret-value"' "$TMP/block.yaml"
check "aws -> aws-s3 keeps the session token" \
    grep -q 'session_token: "session-token-value"' "$TMP/block.yaml"
check "aws -> aws-s3 drops the service" sh -c "! grep -q 'service:' '$TMP/block.yaml'"
hd sites edit aw --auth bearer
expect_rc 2 "aws-s3 -> bearer: an aws secret is no bearer token"
check "bearer token asked for, by its configuration name (issue #11)" grep -q "auth.token: a token is required for bearer auth (set with --secret)" "$TMP/err"
hd sites edit aw --auth bearer --secret tok
expect_rc 0 "aws-s3 -> bearer with a token"
hd sites export --show-secrets
site_block aw
check "bearer keeps no aws setting" \
    sh -c "! grep -q -e region -e access_key -e bucket -e session_token '$TMP/block.yaml'"

# --- YAML: bad settings refused with file:line:col ---
write_config "sites:
  - name: y
    url: $BASE/y
    auth:
      kind: jwt
      alg: ES256
      secret: x"
hd sites list
expect_rc 2 "YAML unknown algorithm"
check "YAML alg position" grep -q "hookdesk.yaml:13:12: site 'y': auth.alg: unknown algorithm 'ES256'" "$TMP/err"
write_config "sites:
  - name: y
    url: $BASE/y
    auth:
      kind: aws-s3
      access_key: AK
      secret_key: sk
      region: eu-west-1
      bucket: archive
      object_format: '{nope}'"
hd sites list
expect_rc 2 "YAML bad object format"
check "YAML object_format named" grep -q "auth.object_format: unknown placeholder" "$TMP/err"

finish
