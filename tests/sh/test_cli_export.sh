#!/bin/sh
# test_cli_export.sh - `sites export` reads back as it was written: sites of
# every auth kind, with extra headers, secret-marked headers, jwt claims and
# texts that need quoting, exported, imported into a fresh database and
# exported again give byte-identical files, with secrets shown
# (--show-secrets) and masked.  A masked export imported over the same
# database changes nothing either.
. "$(dirname "$0")/cli_common.sh"

write_config
PEM="$TMP/jwt.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PEM" 2>/dev/null ||
    fail "openssl could not make a key"

add() {
    hd sites add "$@"
    expect_rc 0 "sites add $1"
}
add none --url 'https://example.com/a?x=1&y="q"' --timeout 7s --max-in-flight 3 \
    --add-header 'X-Source: hookdesk ${not-a-var}' --add-header 'X-Quote: a "b" \c'
add basic --url https://example.com/b --auth basic --user 'ali ce' --secret 'pa:ss"word' \
    --add-secret-header 'X-Tenant: tenant-secret' --content-type form --disabled
add bearer --url https://example.com/c --auth bearer --secret 'tok en'
add header --url https://example.com/d --auth header --header X-Api-Key --secret 'k$ey' \
    --add-header 'Authorization-Hint: none'
add hmac --url https://example.com/e --auth hmac --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
add jwt --url https://example.com/f --auth jwt --secret jwt-secret --jwt-claim iss=hookdesk \
    --jwt-claim 'aud=billing "eu"' --jwt-claim 'x.y=1:2' --jwt-lifetime 90s
add jwt-rs --url https://example.com/g --auth jwt --jwt-alg RS256 --jwt-key-file "$PEM"
add oauth2 --url https://example.com/h --auth oauth2 --token-url https://auth.example.com/t \
    --client-id cid --secret csecret --scope 'a b' --audience https://api.example.com \
    --client-auth body
add aws --url https://example.com/i --auth aws --access-key AKID --secret aws-secret \
    --region eu-west-1 --service execute-api --session-token session-tok
add aws-s3 --url https://s3.example.com --auth aws-s3 --access-key AKID3 --secret s3-secret \
    --region us-east-1 --bucket hooks-archive --object-format '{date}/{action}/{id}.json'

hd sites export --show-secrets
expect_rc 0 "export --show-secrets"
cp "$TMP/out" "$TMP/shown.yaml"
hd sites export
expect_rc 0 "export"
cp "$TMP/out" "$TMP/masked.yaml"
for kind in none basic bearer header hmac jwt oauth2 aws aws-s3; do
    check "export has kind $kind" grep -q "kind: $kind\$" "$TMP/shown.yaml"
done
check "claims exported" grep -q 'claims: {"iss": "hookdesk", "aud": "billing \\"eu\\"", "x.y": "1:2"}' \
    "$TMP/shown.yaml"
check "secret header exported" grep -q '"X-Tenant": {value: "tenant-secret", secret: true}' \
    "$TMP/shown.yaml"
check "a \${ stays a text" grep -q 'hookdesk $${not-a-var}' "$TMP/shown.yaml"
check "masked export hides secrets" \
    sh -c "! grep -q -e tenant-secret -e jwt-secret -e csecret -e aws-secret -e session-tok '$TMP/masked.yaml'"

echo "# into a fresh database: the same file back, shown and masked"
FRESH="$TMP/fresh.yaml"
FRESH_DB=$(db_name fresh) || exit 1
sed "s|^database: .*|database: $FRESH_DB|" "$TMP/hookdesk.yaml" >"$FRESH"
"$HOOKDESK_BIN" -c "$FRESH" sites import "$TMP/shown.yaml" >"$TMP/out" 2>"$TMP/err" ||
    fail "import into a fresh database: $(cat "$TMP/err")"
"$HOOKDESK_BIN" -c "$FRESH" sites export --show-secrets >"$TMP/again.yaml" 2>"$TMP/err" ||
    fail "export of the fresh database"
cmp -s "$TMP/shown.yaml" "$TMP/again.yaml" ||
    fail "export -> import -> export differs: $(diff "$TMP/shown.yaml" "$TMP/again.yaml")"
"$HOOKDESK_BIN" -c "$FRESH" sites export >"$TMP/again-masked.yaml" 2>"$TMP/err" ||
    fail "masked export of the fresh database"
cmp -s "$TMP/masked.yaml" "$TMP/again-masked.yaml" ||
    fail "masked exports differ: $(diff "$TMP/masked.yaml" "$TMP/again-masked.yaml")"

echo "# a masked export imported over its own database changes nothing"
hd sites import "$TMP/masked.yaml"
expect_rc 0 "import of the masked export"
hd sites export --show-secrets
cmp -s "$TMP/shown.yaml" "$TMP/out" ||
    fail "masked import changed the sites: $(diff "$TMP/shown.yaml" "$TMP/out")"

finish
