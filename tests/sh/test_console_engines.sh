#!/bin/sh
# test_console_engines.sh - which engines deliver on a database (issue #11,
# "which engines are running"): every engine keeps a heartbeat row; the
# console's header counts them, a --no-deliver console with no engine alive
# says so plainly, and `hookdesk engines` lists them (host, pid, role).
# Real consoles in tmux (80x24), a real `serve`, one database.
#
# Every check polls the screen until it holds or 10 s pass, and prints the
# screen when it does not: no fixed sleeps.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
RECV=${HD_RECEIVER_BIN:?set HD_RECEIVER_BIN to hd-receiver}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
. "$(dirname "$0")/console_common.sh"

SPID=""
stop_serve() {
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
    SPID=""
}
CONSOLE_CLEANUP_EXTRA='stop_serve'
# nd_screen / nd_expect: the second console (--no-deliver), session "nd".
nd_screen() { $T capture-pane -p -J -t nd; }
nd_expect() {
    end=$(($(date +%s) + 10))
    until nd_screen | grep -q -F -e "$1"; do
        if [ "$(date +%s)" -ge "$end" ]; then
            echo "FAIL: expected '$1' on the --no-deliver console"
            echo "---- screen ----"; nd_screen; echo "----------------"
            exit 1
        fi
        sleep 0.05
    done
}
engines_json() { hd engines --format json; }
engines_count() { engines_json | grep -c '"role"'; }
wait_engines() {
    end=$(($(date +%s) + 10))
    until [ "$(engines_count)" -eq "$1" ]; do
        [ "$(date +%s)" -ge "$end" ] && fail "expected $1 engines, \`engines\` lists: $(engines_json)"
        sleep 0.05
    done
}

echo "# the delivering console alone: its own heartbeat, no count in the header"
expect_fixed "engine on, 0 in flight"
wait_engines 1
engines_json | grep -q '"role":"console"' || fail "the console's engine is not listed as a console"
engines_json | grep -q "\"pid\":[1-9]" || fail "no pid in: $(engines_json)"

echo "# a --no-deliver console sees one engine delivering"
$T new-session -d -s nd -x 80 -y 24 "cd '$W' && '$HD' -c '$W/hd.yaml' --no-deliver 2>'$W/nd.err'; sleep 600" ||
    fail "tmux did not start the second console"
nd_expect "watching only, 1 engine delivering"

echo "# a serve joins: both consoles count it"
"$HD" -c "$W/hd.yaml" serve >"$W/serve.out" 2>"$W/serve.err" &
SPID=$!
wait_engines 2
engines_json | grep -q '"role":"serve"' || fail "serve is not listed: $(engines_json)"
expect_fixed "engine on, 0 in flight, 2 engines"
nd_expect "watching only, 2 engines delivering"
hd engines >"$W/engines.txt" || fail "hookdesk engines failed"
grep -q "^HOST  *PID  *ROLE  *STARTED  *SEEN  *ATTEMPTS  *IN FLIGHT" "$W/engines.txt" ||
    fail "engines table header: $(cat "$W/engines.txt")"
[ "$(grep -c " serve \| console " "$W/engines.txt")" -eq 2 ] || fail "engines table: $(cat "$W/engines.txt")"

echo "# serve stops (SIGTERM): its row goes at once"
stop_serve
wait_engines 1
nd_expect "watching only, 1 engine delivering"
wait_for -F -e "engine on, 0 in flight " || fail "the header still counts the stopped serve"
on_screen -F "2 engines" && fail "the header still says 2 engines"

echo "# the delivering console quits: the watching one says no engine delivers"
keys q
end=$(($(date +%s) + 10))
until screen | grep -q "^EXIT="; do
    [ "$(date +%s)" -ge "$end" ] && fail "the console did not quit"
    sleep 0.05
done
nd_expect "watching only: NO ENGINE is delivering"
wait_engines 0
echo "all checks passed"
