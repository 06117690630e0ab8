#!/bin/sh
# pg_server.sh - a throwaway PostgreSQL server for the tests (issue #12):
# initdb in a fresh directory, pg_ctl start listening on a Unix socket in
# that directory only (no TCP port), stopped and removed by `stop`.
#
#   eval "$(sh tests/pg_server.sh start DIR)"   # sets PG_DIR, PG_URL, PG_SOCKET
#   sh tests/pg_server.sh stop DIR
#
# PG_URL is a libpq connection string (postgresql:///hookdesk?host=SOCKETDIR)
# for the database `hookdesk`, created empty, owned by the user the tests
# run as (a superuser of that cluster: the tests make and drop databases).
# The server binaries come from Debian's postgresql package (.ci/deps);
# when they are missing it says so on stderr and exits 77 (tests skip).
# As root the server runs as the `postgres` user (initdb refuses root) and
# the tests connect as that user.
#
# PG_LISTEN=ADDR [PG_PORT=N] also listens on TCP at ADDR:N (N: a free port
# when unset), trusting every client that reaches it: for the multi-host
# tests, whose addresses are private to the test (a veth bridge of its own
# or loopback).  It prints PG_PORT then.  PG_FSYNC=on: a durable server
# (benchmarks); tests run with fsync off.  `restart DIR` restarts the server
# with the same settings (a server restart in the middle of a test).
set -eu
cmd=${1:?usage: pg_server.sh start|stop|restart DIR}
dir=${2:?usage: pg_server.sh start|stop|restart DIR}

bindir=""
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && bindir=$d
done
if [ -z "$bindir" ]; then
    echo "pg_server.sh: no PostgreSQL server binaries (Debian: apt-get install postgresql, or sh .ci/deps)" >&2
    exit 77
fi

# as_server CMD...: runs CMD as the server's user.
if [ "$(id -u)" -eq 0 ]; then
    server_user=postgres
    as_server() { runuser -u postgres -- "$@"; }
else
    server_user=$(id -un)
    as_server() { "$@"; }
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    data="$dir/data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_server "$bindir/initdb" -D "$data" -U "$server_user" -A trust --no-sync \
        >"$dir/initdb.log" 2>&1 ||
        { echo "pg_server.sh: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
    # Unix socket in $dir; TCP only with PG_LISTEN; fsync off (a test server).
    listen=""
    if [ -n "${PG_LISTEN:-}" ]; then
        port=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
        listen="$PG_LISTEN"
        echo "host all all 0.0.0.0/0 trust" >>"$data/pg_hba.conf"
        echo "PG_PORT='$port'"
    else
        port=5432
    fi
    echo "-c listen_addresses='$listen' -c port=$port -c unix_socket_directories='$dir' -c fsync=${PG_FSYNC:-off}" \
        >"$dir/options"
    as_server "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
        -o "$(cat "$dir/options")" start >"$dir/pg_ctl.log" 2>&1 ||
        { echo "pg_server.sh: the server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
    as_server "$bindir/createdb" -h "$dir" -p "$port" -U "$server_user" hookdesk ||
        { echo "pg_server.sh: createdb failed" >&2; exit 1; }
    echo "PG_DIR='$dir'"
    echo "PG_SOCKET='$dir'"
    echo "PG_USER='$server_user'"
    echo "PG_URL='postgresql:///hookdesk?host=$dir&port=$port&user=$server_user'"
    ;;
restart)
    as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -m fast \
        -o "$(cat "$dir/options")" restart >>"$dir/pg_ctl.log" 2>&1 ||
        { echo "pg_server.sh: the server did not restart:" >&2; tail "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    [ -d "$dir/data" ] && as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
        >/dev/null 2>&1 || :
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg_server.sh start|stop|restart DIR" >&2
    exit 2
    ;;
esac
