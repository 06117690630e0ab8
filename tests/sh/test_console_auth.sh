#!/bin/sh
# test_console_auth.sh - the site form with the auth kinds of issue #4 in a
# real terminal (tmux, 80x24): an oauth2 site (an invalid token URL is
# refused with its message under the Token URL field and nothing is saved;
# fixed, it is saved and a message to it is delivered through the test
# receiver's token endpoint), an aws-s3 site (its settings in `sites
# export`, its PUT request in `sites test`), and a jwt site made with the CLI
# edited in the form from HS256 to RS256 (a missing key file is found by
# Save, which probes the key, not while typing).  Typed secrets never show on the
# screen; stored ones show as ********.  At 80x12 the form scrolls to keep
# the focused field in view.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
. "$(dirname "$0")/console_common.sh"

# poll CMD...: runs CMD every 50 ms until it succeeds (10 s).
poll() {
    end=$(($(date +%s) + 10))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.05
    done
}
# below LABEL TEXT: the screen line right under the field LABEL holds TEXT.
below() {
    screen | grep -A1 "^ $1 " | tail -n 1 | grep -q -F -e "$2"
}
no_secrets() {
    for s in oa-secret-XYZ s3-secret-XYZ s3-session-XYZ jwt-secret-XYZ; do
        on_screen -F "$s" && fail "secret $s is on the screen"
    done
    return 0
}
done_for() { hd logs --status done --site "$1" --format csv | grep -q "$2"; }

expect_fixed "1 Logs"
keys 3
expect_fixed "3 trusted sites"

echo "# oauth2: the settings of the kind appear once it is chosen"
keys a
expect_fixed "Add a trusted site"
type_text "oa"
keys Tab
type_text "http://127.0.0.1:$PORT/oauth/cf/protected"
keys Tab Tab Tab Tab Right Right Right Right Right Right
expect_fixed "< oauth2 >"
expect "^ Token URL  "
expect "^ Client id  "
expect "^ Client secret  "
expect "^ Scope  "
expect "^ Audience  "
expect_fixed "Client auth     < basic >"
on_screen "^ Region " && fail "an aws setting shows for oauth2"
on_screen "^ Algorithm " && fail "a jwt setting shows for oauth2"

echo "# an invalid token URL is refused under its field and nothing is saved"
keys Tab
type_text "ftp://127.0.0.1/token"
keys Tab
type_text "client-1"
keys Tab
type_text "oa-secret-XYZ"
expect_fixed "Client secret   *************"
no_secrets
keys Tab
type_text "orders.write"
keys Tab
type_text "https://api.example"
keys Tab Right
expect_fixed "Client auth     < body >"
keys C-s
expect_fixed "auth.token_url: must start with http:// or https://"
below "Token URL" "auth.token_url: must start with http:// or https://" ||
    fail "the token URL message is not under the Token URL field"
expect_fixed "Add a trusted site"
hd sites list | grep -q "^oa " && fail "a site with an invalid token URL was saved"

echo "# fixed (the failed save put the cursor on Token URL), it is saved"
keys C-u
type_text "http://127.0.0.1:$PORT/oauth/cf/token"
expect_fixed "Token URL       http://127.0.0.1:$PORT/oauth/cf/token"
below "Token URL" "auth.token_url:" && fail "the message stayed after the fix"
keys C-s
expect_fixed "4 trusted sites"
expect "^oa  *http://127.0.0.1:$PORT/o.* oauth2  *yes"   # the URL is cut at 80 columns
no_secrets
hd sites export >"$W/export.yaml" || fail "sites export failed"
for want in 'kind: oauth2' 'client_id: "client-1"' 'client_secret: "\*\*\*\*\*\*\*\*"' \
    "token_url: \"http://127.0.0.1:$PORT/oauth/cf/token\"" 'scope: "orders.write"' \
    'audience: "https://api.example"' 'client_auth: "body"'; do
    grep -q "$want" "$W/export.yaml" || { cat "$W/export.yaml"; fail "export lacks $want"; }
done
grep -q "oa-secret-XYZ" "$W/export.yaml" && fail "export shows the client secret"
hd sites export --show-secrets | grep -q '"oa-secret-XYZ"' || fail "the client secret was not stored"

echo "# the saved oauth2 site delivers (token fetched from the receiver)"
hd send --site oa --action order.oauth --customer cus_oa >/dev/null || fail "send to oa failed"
poll done_for oa order.oauth || fail "the oauth2 message was not delivered: $(hd logs --site oa)"

echo "# aws-s3: access key, masked secret key, region, bucket, object format, session token"
keys a
expect_fixed "Add a trusted site"
type_text "s3site"
keys Tab
type_text "http://127.0.0.1:$PORT"
keys Tab Tab Tab Tab Left
expect_fixed "< aws-s3 >"
on_screen "^ Service " && fail "the aws service shows for aws-s3"
on_screen "^ Token URL " && fail "an oauth2 setting shows for aws-s3"
keys Tab
type_text "AKIDEXAMPLE"
keys Tab
type_text "s3-secret-XYZ"
keys Tab
type_text "eu-west-1"
keys Tab
type_text "Bad_Bucket"
keys Tab
expect_fixed "auth.bucket: 'Bad_Bucket' is not a bucket name"
below "Bucket" "auth.bucket:" || fail "the bucket message is not under the Bucket field"
keys BTab C-u
type_text "hd-bucket"
keys Tab
type_text "hooks/{date}/{id}.json"
keys Tab
type_text "s3-session-XYZ"
expect_fixed "Session token   **************"
no_secrets
keys C-s
expect_fixed "5 trusted sites"
expect "^s3site  *http://127.0.0.1:$PORT  *aws-s3  *yes"
no_secrets
hd sites export >"$W/export.yaml" || fail "sites export failed"
for want in 'kind: aws-s3' 'access_key: "AKIDEXAMPLE"' 'region: "eu-west-1"' \
    'bucket: "hd-bucket"' 'object_format: "hooks/{date}/{id}.json"' \
    'session_token: "\*\*\*\*\*\*\*\*"'; do
    grep -q "$want" "$W/export.yaml" || { cat "$W/export.yaml"; fail "export lacks $want"; }
done
grep -q -e "s3-secret-XYZ" -e "s3-session-XYZ" "$W/export.yaml" && fail "export shows an aws secret"
hd sites test s3site >"$W/test.txt" 2>&1
grep -q "PUT .*/hd-bucket/hooks/" "$W/test.txt" || { cat "$W/test.txt"; fail "sites test: no PUT into the bucket"; }
grep -q -e "s3-secret-XYZ" -e "s3-session-XYZ" "$W/test.txt" && fail "sites test shows an aws secret"

echo "# editing shows the stored settings, secrets as ********, and keeps them"
keys G
expect_fixed "5 trusted sites"
keys g j j j j
keys e
expect_fixed "Edit trusted site s3site"
expect_fixed "Access key id   AKIDEXAMPLE"
expect_fixed "Secret key      ********"
expect_fixed "Session token   ********"
expect_fixed "Object format   hooks/{date}/{id}.json"
keys C-s
expect_fixed "trusted site s3site saved"
hd sites export --show-secrets | grep -q '"s3-session-XYZ"' || fail "the session token was not kept"
hd sites export --show-secrets | grep -q '"s3-secret-XYZ"' || fail "the secret key was not kept"

echo "# jwt: a site made with the CLI, edited in the form from HS256 to RS256"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/jwt.pem" 2>/dev/null ||
    fail "openssl could not make a key"
hd sites add jw --url "http://127.0.0.1:$PORT/ok" --auth jwt --jwt-alg HS256 \
    --secret jwt-secret-XYZ --jwt-claim iss=hookdesk --jwt-lifetime 10m >/dev/null ||
    fail "sites add jw failed"
expect_fixed "6 trusted sites"
keys g j j
keys e
expect_fixed "Edit trusted site jw"
expect_fixed "Algorithm       < HS256 >"
expect_fixed "Secret          ********"
expect_fixed "Claims          iss=hookdesk"
expect_fixed "Lifetime        10m"
on_screen "^ Key file " && fail "the RS256 key file shows with HS256"
keys Tab Tab Tab Tab Tab Tab Right
expect_fixed "Algorithm       < RS256 >"
expect "^ Key file  "
expect "^ Key variable  "
on_screen "^ Secret  " && fail "the HS256 secret shows with RS256"
keys Tab
type_text "$W/missing.pem"
keys Tab
expect_fixed "Key file        $W/missing.pem"
# Validation never reads the key while typing: Save probes it.
on_screen -F "auth.key_file:" && fail "the key file was read while typing"
keys C-s
expect_fixed "not saved: auth.key_file: cannot read"
below "Key file" "auth.key_file:" || fail "the key file message is not under the Key file field"
keys C-u   # the failed save put the cursor on Key file
type_text "$W/jwt.pem"
keys Tab Tab
type_text "; sub=orders"
keys Tab C-u
type_text "2m"
keys C-s
expect_fixed "trusted site jw saved"
hd sites export --show-secrets >"$W/export.yaml" || fail "sites export failed"
for want in 'kind: jwt' 'alg: "RS256"' "key_file: \"$W/jwt.pem\"" \
    'claims: {"iss": "hookdesk", "sub": "orders"}' 'lifetime: 2m'; do
    grep -q "$want" "$W/export.yaml" || { cat "$W/export.yaml"; fail "export lacks $want"; }
done
grep -q "jwt-secret-XYZ" "$W/export.yaml" && fail "the HS256 secret stayed with RS256"
hd send --site jw --action order.jwt --customer cus_jwt >/dev/null || fail "send to jw failed"
poll done_for jw order.jwt || fail "the jwt message was not delivered: $(hd logs --site jw)"
no_secrets

echo "# a small terminal: the column scrolls so that the focused field stays visible"
$T resize-window -t hd -x 80 -y 12 || fail "tmux cannot resize"
keys g j j j j j
keys e
expect_fixed "Edit trusted site s3site"
expect_fixed "more below"
on_screen "^ Session token " && fail "the last fields fit in 12 rows?"
keys Tab Tab Tab Tab Tab Tab Tab Tab Tab Tab Tab
expect_fixed "Session token   ********"
expect_fixed "more above"
keys BTab BTab BTab BTab BTab BTab BTab BTab BTab BTab BTab
expect_fixed "Name            s3site"
keys Escape
expect_fixed "not saved"
$T resize-window -t hd -x 80 -y 24

echo "# q quits: exit code 0"
keys q
expect_fixed "EXIT=0"
echo "ok"
