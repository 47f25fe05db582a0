#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the tests and benchmarks.
#   scripts/postgres.sh start DIR [PORT]   initdb (once) and start; prints the URL of database `herald`
#   scripts/postgres.sh stop DIR
# Runs the server as the `postgres` system user when started as root (PostgreSQL refuses root).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}; port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$dir" -U herald --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
            || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    # Durability stays on (fsync, synchronous_commit): the figures are those of a real deployment.
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
    as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U herald -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'herald'" | grep -q 1 \
        || as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U herald herald
    echo "postgres://herald@127.0.0.1:$port/herald"
    ;;
stop)
    [ -f "$dir/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
    ;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
