#!/bin/sh
# test_console_sites.sh - the Trusted sites and Queue screens in a real
# terminal (tmux, 80x24): add a site through the form (an invalid URL is
# rejected with its message and nothing is saved), edit it, pause it (its
# message waits in the Queue with a countdown; cancel it there), test it
# (ping answer in a popup), delete it; every change checked with the CLI.
# A header marked secret in the form is typed masked and never echoed, not
# even in a validation message, and is kept when the form is saved again.
#
# Every check polls the screen every 50 ms until it holds or 10 s pass, and
# prints the screen when it does not (fzf's way): no fixed sleeps.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
# This one runs without UTF-8 and without colour: the ASCII fallbacks and the
# monochrome attributes (test_console_logs.sh covers UTF-8 and colour).
export LANG=C LC_ALL=C NO_COLOR=1
. "$(dirname "$0")/console_common.sh"

echo "# the Trusted sites screen lists the configured sites"
expect_fixed "1 Logs"
keys 3
expect "^ok  *http://127.0.0.1:$PORT/ok  *none  *yes"
expect_fixed "3 trusted sites"
ESC=$(printf '\033')
$T capture-pane -p -e -t hd | grep -q "$ESC\[[0-9;]*[34][0-7]m" &&
    fail "NO_COLOR is set but the screen has colours"

echo "# add: an invalid URL is rejected with its message and not saved"
keys a
expect_fixed "Add a trusted site"
type_text "newsite"
keys Tab
type_text "ftp://127.0.0.1:$PORT/ok"
keys C-s
expect_fixed "url: must start with http:// or https://"
expect_fixed "Add a trusted site"
hd sites list | grep -q newsite && fail "an invalid site was saved"

echo "# fixing the URL saves it"
# The failed save put the focus on the URL field: fix the scheme in place
# (Home, Delete x3, type) as one would in any line editor.
keys Home Delete Delete Delete
type_text "http"
expect_fixed "http://127.0.0.1:$PORT/ok"
keys C-s
expect_fixed "4 trusted sites"
expect "^newsite  *http://127.0.0.1:$PORT/ok "
hd sites list | grep -q "^newsite .*/ok" || fail "the CLI does not see newsite"

echo "# edit: change the URL and add a bearer token (typed masked)"
keys g j j
keys e
expect_fixed "Edit trusted site newsite"
keys Tab C-u
type_text "http://127.0.0.1:$PORT/status/201"
keys Tab Tab Tab Tab Right Right   # content type, timeout, max in flight, auth
expect_fixed "< bearer >"
keys Tab
type_text "s3cret-token"
expect_fixed "Token           ************"
on_screen -F "s3cret-token" && fail "a typed secret shows on the screen"
keys C-s
expect "^newsite  *http://127.0.0.1:$PORT/s.* bearer"   # the URL is cut at 80 columns
hd sites list | grep -q "^newsite .*/status/201" || fail "the edit was not saved"

echo "# editing again shows the secret masked and keeps it"
keys e
expect_fixed "Token           ********"
keys C-s
expect "^newsite .*bearer"
hd sites export --show-secrets 2>/dev/null | grep -q "s3cret-token" ||
    hd sites export --show-secrets | grep -q "s3cret" || fail "the secret was not kept"

echo "# a secret header: typed masked, never echoed, not even in a message"
keys e
expect_fixed "Edit trusted site newsite"
keys PgDn Up   # Save, then the field above it: Secret headers
expect_fixed "Name: value; Name2: value2, typed masked"
type_text "f0rm-s3cret-only"   # no name: an error that must not quote it
expect_fixed "secret_headers: header 1 is not 'Name: value'"
on_screen -F "f0rm-s3cret" && fail "a secret header's text shows on the screen"
keys C-u
type_text "Bad Name f0rm-s3cret: v"   # not a header name: named by its place
expect_fixed "secret_headers: header 1 is not a valid header name"
on_screen -F "f0rm-s3cret" && fail "an invalid secret header is quoted in its message"
keys C-u
type_text "X-Form-Key: f0rm-s3cret-v4lue"
expect_fixed "Secret headers  *****************************"
on_screen -F "f0rm-s3cret" && fail "a typed secret header shows on the screen"
keys C-s
expect "^newsite .*bearer"
hd sites export | grep -q '"X-Form-Key": {value: "\*\*\*\*\*\*\*\*", secret: true}' ||
    fail "the header was not saved as secret"
hd sites export --show-secrets | grep -q '"X-Form-Key": {value: "f0rm-s3cret-v4lue", secret: true}' ||
    fail "the secret header's value was not saved"
keys e
expect_fixed "Secret headers  ********"
keys PgDn Up
expect_fixed "stored: X-Form-Key (typing replaces them all"
on_screen -F "f0rm-s3cret" && fail "a stored secret header shows in the form"
keys C-s   # saved untouched: the stored value stays
expect "^newsite .*bearer"
hd sites export --show-secrets | grep -q '"X-Form-Key": {value: "f0rm-s3cret-v4lue", secret: true}' ||
    fail "saving the form without retyping lost the secret header"

echo "# test: a ping goes out and its answer shows in a popup"
keys t
expect_fixed "Test of newsite"
expect "HTTP 201 in [0-9]* ms"   # as the CLI says it (it said "code: 201", "code: 0")
expect_fixed "POST http://127.0.0.1:"   # the request line, as the CLI shows it
# j scrolls the popup only as far as its last line: the answer fits, so it
# stays in view however often j is pressed.
keys_mark
keys j j j j j j j j j j j j j j j j j j j j j j j j j j j j j j
keys_settled 30
on_screen -F "HTTP 201 in" || fail "j scrolled the popup past its end"
on_screen -F "f0rm-s3cret" && fail "the test popup shows a secret header"
keys Escape

echo "# pause: its messages wait in the Queue"
keys p
expect "^newsite .*paused"
hd sites list | grep "^newsite" | grep -q -v " yes " || fail "the CLI still sees newsite enabled"
hd send --site newsite --action order.waiting --customer cus_wait >/dev/null || fail "send failed"
keys 2
expect "cus_wait  *newsite  *0  *Queued  *paused"
expect_fixed "1 Queued"
keys s   # send now: it cannot while its site is paused, and says so
expect_fixed "goes out as soon as newsite is resumed"
keys Enter   # the detail agrees with the Queue, "send now" or not
expect "^Next attempt  *paused"
keys Escape
expect "cus_wait  *newsite  *0  *Queued  *paused"

echo "# cancel from the Queue (confirmed): it becomes Failed"
keys x
expect_fixed "Cancel message #"
keys y
expect_fixed "The queue is empty"
[ "$(hd logs --status failed --format csv | grep -c order.waiting)" -eq 1 ] ||
    fail "the cancelled message is not Failed"

echo "# the cursor stays on its site when another process adds one above it"
keys 3
expect "^newsite .*paused"
keys g j j
hd sites add aaa-first --url "http://127.0.0.1:$PORT/ok" >/dev/null || fail "sites add failed"
expect_fixed "5 trusted sites"
keys p   # pauses/resumes the selected site: must still be newsite
expect "^newsite .*bearer *yes"
hd sites list | grep "^aaa-first" | grep -q " yes " || fail "p paused the site that was added above"
hd sites remove aaa-first >/dev/null || fail "sites remove failed"
expect_fixed "4 trusted sites"

echo "# pause again, resume, then delete (confirmed)"
keys p
expect "^newsite .*paused"
keys p
expect "^newsite .*bearer *yes"
keys d
expect_fixed "Delete trusted site newsite?"
keys n
expect_fixed "cancelled"
hd sites list | grep -q "^newsite" || fail "n deleted the site"
keys d
expect_fixed "Delete trusted site newsite? Its history stays in the logs."   # nothing pending
keys y
expect_fixed "3 trusted sites"
expect_fixed "trusted site deleted"
hd sites list | grep -q "^newsite" && fail "the site was not deleted"

echo "# q quits: exit code 0, terminal restored"
keys q
expect_fixed "EXIT=0"
expect "^icanon$"
echo "ok"
