#!/bin/sh
# Secrets (issue #10, item 8), with the real binary and receiver:
# - the database and its -wal/-shm files are 0600 and ours: an existing 0644
#   database is narrowed; a -wal (or database) owned by another user is
#   refused with a message naming it, and nothing is written into it;
# - proxies only when configured: http_proxy/ALL_PROXY from the environment
#   are ignored; network.proxy is used for deliveries, OAuth2 token fetches
#   and `sites test` (the receiver plays the proxy), an unreachable one is
#   named in the attempt error (never its password), and with
#   allow_private false a literal private address or localhost in the URL is
#   refused before anything goes to the proxy;
# - any extra header can be marked secret (--add-secret-header, YAML
#   {value, secret: true}) and is then masked in sites list, export, show,
#   the stored request headers and sites test, shown by export
#   --show-secrets, kept by an export/import round trip.
. "$(dirname "$0")/cli_common.sh"

start_receiver
write_config
DB=$HD_DB

mode_of() { stat -c %a "$1"; }
owner_of() { stat -c %U "$1"; }

# serve_drain: delivers everything pending and waits (at most 60 s).
serve_drain() {
    "$HOOKDESK_BIN" -c "$TMP/hookdesk.yaml" serve --drain >"$TMP/serve.out" 2>"$TMP/serve.err" &
    spid=$!
    deadline=$(($(date +%s) + 60))
    while kill -0 "$spid" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            kill "$spid" 2>/dev/null
            fail "serve --drain did not exit within 60 s"
            break
        fi
        sleep 0.05
    done
    wait "$spid" 2>/dev/null
}

# ---------------------------------------------------------------- file modes
# SQLite files only: a PostgreSQL database has no file of ours.
if [ "$HD_BACKEND" = sqlite ]; then
    echo "# the database is 0600; an existing 0644 one is narrowed"
    hd sites list
    expect_rc 0 "sites list on a new database"
    check "a new database is 0600 (got $(mode_of "$DB"))" test "$(mode_of "$DB")" = 600
    chmod 644 "$DB"
    hd sites add early --url "http://127.0.0.1:$RX_PORT/ok"
    expect_rc 0 "sites add on a 0644 database"
    check "the 0644 database is now 0600 (got $(mode_of "$DB"))" test "$(mode_of "$DB")" = 600
    check "no -wal left behind by a one-shot command" test ! -e "$DB-wal"

    if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
        echo "# a 0666 -wal made by another user is refused, never written"
        : >"$DB-wal"
        chmod 666 "$DB-wal"
        chown nobody "$DB-wal"
        hd sites add victim --url "http://127.0.0.1:$RX_PORT/ok" --auth bearer --secret must-not-leak
        expect_rc 1 "sites add with a foreign -wal"
        check "the error names the -wal" grep -q "$DB-wal is owned by another user (nobody, uid [0-9]*), not by you" "$TMP/err"
        check "and its mode" grep -q "mode 0666" "$TMP/err"
        check "and what to do" grep -q "chown it to you and chmod 600 it, otherwise remove it" "$TMP/err"
        check "the -wal is untouched (owner)" test "$(owner_of "$DB-wal")" = nobody
        check "the -wal is untouched (mode)" test "$(mode_of "$DB-wal")" = 666
        check "nothing was written into it" test ! -s "$DB-wal"
        hd logs
        expect_rc 1 "every read-write command refuses it"
        rm -f "$DB-wal"
        hd sites list
        expect_rc 0 "without it the database opens"
        check "the refused add saved nothing" sh -c "! grep -q '^victim ' '$TMP/out'"

        echo "# a database file of another user is refused too"
        chown nobody "$DB"
        hd sites list
        expect_rc 1 "sites list on a foreign database"
        check "the error names the database and its owner" grep -q "$DB is owned by another user (nobody" "$TMP/err"
        chown root "$DB"
    else
        echo "# skipped: a file of another user needs root and a 'nobody' user"
    fi

    echo "# a database whose mode cannot be made 0600 is refused (read-only tmpfs)"
    mkdir "$TMP/ro"
    trap 'umount "$TMP/ro" 2>/dev/null; cleanup' EXIT INT TERM
    if mount -t tmpfs -o size=2m tmpfs "$TMP/ro" 2>/dev/null; then
        "$HOOKDESK_BIN" --db "$TMP/ro/ro.db" sites list >/dev/null 2>&1
        chmod 644 "$TMP/ro/ro.db"
        if mount -o remount,ro "$TMP/ro" 2>/dev/null; then
            "$HOOKDESK_BIN" --db "$TMP/ro/ro.db" sites list >"$TMP/out" 2>"$TMP/err"
            RC=$?
            expect_rc 1 "sites list on a 0644 database that cannot be changed"
            check "the error says the mode cannot be made 0600 and why" \
                grep -q "$TMP/ro/ro.db has mode 0644 and cannot be made 0600 (Read-only file system)" "$TMP/err"
        else
            echo "# skipped: cannot remount the tmpfs read-only"
        fi
        umount "$TMP/ro"
    else
        echo "# skipped: mounting a tmpfs is not allowed here"
    fi
else
    echo "# skipped on PostgreSQL: the file modes are the SQLite backend's"
fi

# ------------------------------------------------------------------- proxies
echo "# without network.proxy, proxies from the environment are ignored"
hd sites add direct --url "http://127.0.0.1:$RX_PORT/ok/direct"
expect_rc 0 "sites add direct"
hd send --site direct --action env.proxy --payload - <<EOF
{"n": 1}
EOF
expect_rc 0 "send to direct"
ID_DIRECT=$(cat "$TMP/out")
export http_proxy=http://127.0.0.1:1 HTTP_PROXY=http://127.0.0.1:1 ALL_PROXY=http://127.0.0.1:1 \
    all_proxy=http://127.0.0.1:1 https_proxy=http://127.0.0.1:1
serve_drain
hd show "$ID_DIRECT"
check "delivered directly despite http_proxy/ALL_PROXY" grep -q "^Status: *Done" "$TMP/out"
check "the receiver got it" grep -q '"path":"/ok/direct"' "$RX_LOG"
hd sites test direct
expect_rc 0 "sites test ignores the environment's proxy too"
unset http_proxy HTTP_PROXY ALL_PROXY all_proxy https_proxy

echo "# network.proxy unreachable: the attempt error names it, not its password"
cat >"$TMP/hookdesk.yaml" <<YAML
database: $DB
delivery:
  retry_interval: 50ms
  max_attempts: 1
  timeout: 5s
network:
  allow_private: true
  proxy: "http://px-user:hunter2-pw@127.0.0.1:1"
YAML
hd send --site direct --action via.dead.proxy --payload - <<EOF
{"n": 2}
EOF
ID_DEAD=$(cat "$TMP/out")
serve_drain
hd show "$ID_DEAD"
check "the attempt failed through the proxy" grep -q "through proxy http://127.0.0.1:1)" "$TMP/out"
check "no proxy password in show" sh -c "! grep -q hunter2 '$TMP/out'"
check "no proxy password in serve's output" sh -c "! grep -q hunter2 '$TMP/serve.err' '$TMP/serve.out'"
hd sites test direct
expect_rc 1 "sites test through a dead proxy"
check "sites test names the proxy" grep -q "through proxy http://127.0.0.1:1)" "$TMP/err"
check "sites test shows no proxy password" sh -c "! grep -q hunter2 '$TMP/err' '$TMP/out'"

echo "# network.proxy used: the receiver plays an HTTP proxy (allow_private false)"
cat >"$TMP/hookdesk.yaml" <<YAML
database: $DB
delivery:
  retry_interval: 50ms
  max_attempts: 1
  timeout: 5s
network:
  allow_private: false
  proxy: "http://127.0.0.1:$RX_PORT"
YAML
# .invalid never resolves: only the proxy can deliver it.
hd sites add viaproxy --url "http://hookdesk-proxy-test.invalid/ok/proxied"
expect_rc 0 "sites add viaproxy"
hd sites add lit --url "http://127.0.0.1:$RX_PORT/ok/literal"
hd sites add lit6 --url "http://[::ffff:127.0.0.1]:$RX_PORT/ok/literal6"
hd sites add lhost --url "http://LocalHost.:$RX_PORT/ok/localhost"
hd sites add sublh --url "http://api.localhost:$RX_PORT/ok/sub"
hd sites add tok --url "http://hookdesk-proxy-test.invalid/ok/after-token" --auth oauth2 \
    --token-url "http://hookdesk-proxy-test.invalid/ok/token-endpoint" --client-id c --secret cs
expect_rc 0 "sites add oauth2 tok"
for s in viaproxy lit lit6 lhost sublh tok; do
    hd send --site $s --action "proxy-$s-end" --payload - <<EOF
{"n": 3}
EOF
done
serve_drain
hd logs --action proxy-viaproxy-end --format json
check "delivered through the proxy" grep -q '"status":"done"' "$TMP/out"
check "the proxy got the absolute URL" grep -q '"path":"http://hookdesk-proxy-test.invalid/ok/proxied"' "$RX_LOG"
for s in lit lit6 lhost sublh; do
    hd logs --action "proxy-$s-end" --format json
    check "$s: refused with allow_private false" grep -q '"status":"failed"' "$TMP/out"
done
hd logs --action proxy-lit-end --format json
ID_LIT=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$TMP/out" | head -n 1)
hd show "$ID_LIT"
check "the refusal says why" grep -q "refused to send to 127.0.0.1 through the proxy: a private address (network.allow_private is false)" "$TMP/out"
check "nothing of the refused ones reached the proxy" sh -c "! grep -q -e '/ok/literal' -e '/ok/localhost' -e '/ok/sub' '$RX_LOG'"
check "the OAuth2 token request went through the proxy" grep -q '"path":"http://hookdesk-proxy-test.invalid/ok/token-endpoint"' "$RX_LOG"
hd sites test viaproxy
expect_rc 0 "sites test through the proxy"
check "sites test went through the proxy" test "$(grep -c '"path":"http://hookdesk-proxy-test.invalid/ok/proxied"' "$RX_LOG")" -ge 2
hd sites test lhost
expect_rc 1 "sites test of localhost through the proxy"
check "sites test refuses localhost" grep -q "refused to send to LocalHost through the proxy" "$TMP/err"
write_config

# ------------------------------------------------------------ secret headers
echo "# a header marked secret is masked everywhere, sent in clear"
TENANT=t3nant-s3cret-value
STDIN_SECRET=stdin-s3cret-value
hd sites add sh --url "http://127.0.0.1:$RX_PORT/ok/secret-headers" \
    --add-header 'X-Plain: visible-value' --add-secret-header "X-Tenant: $TENANT" \
    --secret-header 'X-From-Stdin: -' <<EOF
$STDIN_SECRET
EOF
expect_rc 0 "sites add with secret headers"
no_secret() { ! grep -q -e "$TENANT" -e "$STDIN_SECRET" "$@"; }
hd sites list
check "sites list: no secret" no_secret "$TMP/out"
hd sites list --format json
check "json list: no secret" no_secret "$TMP/out"
check "json list masks them" grep -q '"headers":{"X-Plain":"visible-value","X-Tenant":"\*\*\*\*\*\*\*\*","X-From-Stdin":"\*\*\*\*\*\*\*\*"}' "$TMP/out"
hd sites export
check "export: no secret" no_secret "$TMP/out"
check "export keeps the mark, masked" grep -q '^      "X-Tenant": {value: "\*\*\*\*\*\*\*\*", secret: true}$' "$TMP/out"
check "export keeps a plain header" grep -q '^      "X-Plain": "visible-value"$' "$TMP/out"
cp "$TMP/out" "$TMP/masked-export.yaml"
hd sites export --show-secrets
check "export --show-secrets shows the value" grep -q "^      \"X-Tenant\": {value: \"$TENANT\", secret: true}\$" "$TMP/out"
check "the value from stdin was stored" grep -q "\"X-From-Stdin\": {value: \"$STDIN_SECRET\", secret: true}" "$TMP/out"

hd send --site sh --action secret.headers --payload - <<EOF
{"n": 4}
EOF
ID_SH=$(cat "$TMP/out")
serve_drain
check "the receiver got the real value" sh -c "grep '/ok/secret-headers' '$RX_LOG' | grep -q '\"x-tenant\":\"$TENANT\"'"
hd show "$ID_SH"
check "show: delivered" grep -q "^Status: *Done" "$TMP/out"
check "show: the stored request headers mask it" grep -q "X-Tenant: \*\*\*\*\*\*\*\*" "$TMP/out"
check "show: no secret" no_secret "$TMP/out"
hd show "$ID_SH" --format json
check "show json: no secret" no_secret "$TMP/out"
db_query 'select request_headers from attempts' >"$TMP/stored" ||
    fail "reading the stored request headers"
check "the stored request headers are there" grep -qi "webhook-id" "$TMP/stored"
check "the database's attempt row has no secret" sh -c "! grep -q -e '$TENANT' -e '$STDIN_SECRET' '$TMP/stored'"
hd sites test sh
expect_rc 0 "sites test sh"
check "sites test masks it" grep -q "^> X-Tenant: \*\*\*\*\*\*\*\*" "$TMP/out"
check "sites test: no secret" no_secret "$TMP/out" "$TMP/err"

echo "# export/import keeps the values and the marks"
hd sites import "$TMP/masked-export.yaml"
expect_rc 0 "import of the masked export"
hd sites export --show-secrets
check "the value survived the import" grep -q "\"X-Tenant\": {value: \"$TENANT\", secret: true}" "$TMP/out"
check "so did the value read from stdin" grep -q "\"X-From-Stdin\": {value: \"$STDIN_SECRET\", secret: true}" "$TMP/out"
sed 's/name: "sh"/name: "sh-copy"/' "$TMP/masked-export.yaml" >"$TMP/new-masked.yaml"
hd sites import "$TMP/new-masked.yaml"
expect_rc 2 "a masked secret header for a new site is refused"
check "naming the header" grep -q "header 'X-Tenant' is masked" "$TMP/err"

echo "# a secret header needs 'Name: value'; the text is not echoed"
hd sites add bad --url "http://127.0.0.1:$RX_PORT/ok" --add-secret-header "only-a-s3cret-v4lue"
expect_rc 2 "--add-secret-header without a name"
check "the flag is named" grep -q "add-secret-header: expected 'Name: value'" "$TMP/err"
check "the text is not echoed" sh -c "! grep -q only-a-s3cret-v4lue '$TMP/err'"

echo "# YAML: Name: {value: V, secret: true} in the configuration's sites"
SEEDED_DB=$(db_name seeded) || exit 1
cat >"$TMP/seed.yaml" <<YAML
database: $SEEDED_DB
network:
  allow_private: true
sites:
  - name: seeded
    url: http://127.0.0.1:$RX_PORT/ok
    headers:
      X-Seed: {value: seed-s3cret-value, secret: true}
      X-Open: open-value
YAML
"$HOOKDESK_BIN" -c "$TMP/seed.yaml" sites export >"$TMP/out" 2>"$TMP/err"
check "seeded: masked in export" grep -q '"X-Seed": {value: "\*\*\*\*\*\*\*\*", secret: true}' "$TMP/out"
check "seeded: no secret" sh -c "! grep -q seed-s3cret-value '$TMP/out'"
check "seeded: plain header shown" grep -q '"X-Open": "open-value"' "$TMP/out"
"$HOOKDESK_BIN" -c "$TMP/seed.yaml" sites export --show-secrets >"$TMP/out" 2>"$TMP/err"
check "seeded: stored" grep -q '"X-Seed": {value: "seed-s3cret-value", secret: true}' "$TMP/out"
[ "$HD_BACKEND" = sqlite ] && check "seeded database is 0600" test "$(mode_of "$SEEDED_DB")" = 600

finish
