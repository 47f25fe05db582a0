#!/usr/bin/env bash
# Scale-out benchmark: several heraldd (release build) on one PostgreSQL (scripts/postgres.sh, fsync on)
# sending one signed webhook per user to a local nginx.
#   1. dispatch rate with 1, 2 and 3 daemons: USERS sends, from the moment the occurrence is planned until
#      every row is `sent`; wrk's ceiling against the same nginx in the same run;
#   2. planning time of one occurrence for each audience size in PLAN_SIZES: from heraldd's start to the
#      occurrence's record (snapshot from PostgreSQL, the decision pipeline, every decision written).
#
# Usage: Benchmarks/ScaleOut/run.sh [USERS] [PLAN_SIZES]    e.g. 100000 "100000 1000000 5000000"
#        (USERS 0: planning only)
# Needs postgresql, nginx and wrk (scripts/install-deps.sh --test).
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS="${1:-100000}"
PLAN_SIZES="${2:-100000 1000000}"
REPO="$PWD"
source Benchmarks/scripts/loopback.sh
bench_workdir herald-scaleout-bench
swift build -c release --product heraldd >/dev/null
swift build -c release --product herald >/dev/null
BIN="$REPO/.build/release"

PG_PORT="$(free_port)"
ADMIN=$("$REPO/scripts/postgres.sh" start "$WORK/pg" "$PG_PORT")
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; "$REPO/scripts/postgres.sh" stop "$WORK/pg"; rm -rf "$WORK"' EXIT
psql_() { psql "$1" -Atqc "$2"; }

HTTP_PORT="$(free_port)"
start_nginx "$HTTP_PORT"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' > "$WORK/secret"
printf 'bench-token' > "$WORK/api-token"
head -c 32 /dev/urandom > "$WORK/signing.key"
mkdir -p "$WORK/campaigns"

# config N DB: herald-N.yaml on database DB
config() {
    cat > "$WORK/herald-$1.yaml" <<YAML
store:
  postgres: ${ADMIN%/*}/$2
campaigns: campaigns
api:
  listen: 127.0.0.1:$(free_port)
  public_url: http://127.0.0.1:8025
  token_file: $WORK/api-token
  signing_key_file: $WORK/signing.key
attributes:
  country: string
channels:
  outbox: $WORK/outbox
  webhook:
    endpoints:
      hook: { url: "http://127.0.0.1:$HTTP_PORT/hooks/push", secret_file: $WORK/secret, rate: 1000000/s }
YAML
}
cat > "$WORK/campaigns/bench.yaml" <<YAML
id: bench
name: Scale-out benchmark
status: active
audience:
  segment: country == "US"
trigger:
  schedule: $(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
send_time:
  strategy: immediate
  within: 1d
message:
  channel: webhook
  webhook:
    endpoint: hook
    body: { "user": "{{user_id}}", "title": "Scale-out benchmark" }
YAML
users_file() {
    [ -f "$WORK/users-$1.ndjson" ] || python3 -c "
import json
with open('$WORK/users-$1.ndjson','w') as f:
    for i in range($1): f.write(json.dumps({'id':'u%07d'%i,'country':'US'})+'\n')"
}
# fresh DB USERS: a new database holding USERS users; prints the import time
fresh() {
    psql_ "$ADMIN" "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
    psql_ "$ADMIN" "CREATE DATABASE $1"
    config 0 "$1"
    users_file "$2"
    local t0=$(date +%s.%N)
    "$BIN/herald" users import "$WORK/users-$2.ndjson" --config "$WORK/herald-0.yaml" >/dev/null
    python3 -c "print(f'{$2 / ($(date +%s.%N) - $t0):.0f}')"
}
now() { date +%s.%N; }
wait_sql() { # DB SQL EXPECTED-MIN TIMEOUT
    local deadline=$(( $(date +%s) + $4 ))
    while [ "$(psql_ "${ADMIN%/*}/$1" "$2")" -lt "$3" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out: $2" >&2; tail -20 "$WORK"/heraldd-*.log >&2; exit 1; }
        sleep 0.05
    done
}
stop_daemons() { for p in "${DAEMONS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; DAEMONS=(); }

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"user":"u0000001","title":"Scale-out benchmark"}'
LUA
WRK=$(wrk -t2 -c64 -d5s -s "$WORK/post.lua" "http://127.0.0.1:$HTTP_PORT/hooks/push" | awk '/Requests\/sec/ {print $2}')
echo "wrk -t2 -c64 -d5s against the nginx: $WRK req/s"

DAEMONS=()
for n in 1 2 3; do
    [ "$USERS" -gt 0 ] || break
    rate_import=$(fresh bench_d$n "$USERS")
    for i in $(seq 1 "$n"); do
        config "$i" "bench_d$n"
        "$BIN/heraldd" --config "$WORK/herald-$i.yaml" 2> "$WORK/heraldd-$i.log" & DAEMONS+=($!); PIDS+=($!)
    done
    wait_sql "bench_d$n" "SELECT count(*) FROM occurrences WHERE campaign = 'bench' AND status = 'planned'" 1 600
    t0=$(now)
    wait_sql "bench_d$n" "SELECT count(*) FROM ledger WHERE status = 'sent'" "$USERS" 900
    t1=$(now)
    stop_daemons
    python3 -c "
r = $USERS / ($t1 - $t0)
print(f'{$n} heraldd on one PostgreSQL: {$USERS} webhooks in {$t1 - $t0:.2f} s = {r:.0f}/s; / wrk = {r / $WRK:.3f} (import {$rate_import} users/s)')"
done

for size in $PLAN_SIZES; do
    rate_import=$(fresh bench_plan "$size")
    config 1 bench_plan
    t0=$(now)
    "$BIN/heraldd" --config "$WORK/herald-1.yaml" 2> "$WORK/heraldd-1.log" & DAEMONS+=($!); PIDS+=($!)
    wait_sql bench_plan "SELECT count(*) FROM occurrences WHERE campaign = 'bench' AND status = 'planned'" 1 3600
    t1=$(now)
    stop_daemons
    rows=$(psql_ "${ADMIN%/*}/bench_plan" "SELECT count(*) FROM ledger")
    size_db=$(psql_ "${ADMIN%/*}/bench_plan" "SELECT pg_size_pretty(pg_database_size('bench_plan'))")
    python3 -c "
print(f'planning {$size} users on PostgreSQL (heraldd start to occurrence recorded, {$rows} decisions written): {$t1 - $t0:.2f} s = {$size / ($t1 - $t0):.0f} users/s (import {$rate_import} users/s; database {\"$size_db\"})')"
done
