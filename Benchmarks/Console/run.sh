#!/usr/bin/env bash
# Console benchmark: how long each console page takes to render on a large store (the goal: every page
# within 200 ms on 1,000,000 users). Seeds a SQLite store with `herald sample` (USERS users, ~12 events each),
# starts a release heraldd on it, plans one `api` campaign for every user (a million ledger rows: sends held
# back by a rate of 1/s, so nearly all stay `scheduled`), signs in to the console, then times each page with
# curl (RUNS runs each; the median and the worst are printed).
#
# Usage: Benchmarks/Console/run.sh [USERS] [RUNS]      (default 1000000 users, 5 runs)
#   HERALD_BIN=DIR uses the herald and heraldd in DIR instead of building release ones (e.g. .build/debug).
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS="${1:-1000000}"
RUNS="${2:-5}"
REPO="$PWD"
source Benchmarks/scripts/loopback.sh
bench_workdir herald-console-bench
if [ -n "${HERALD_BIN:-}" ]; then
    BIN="$(cd "$HERALD_BIN" && pwd)"
else
    swift build -c release --product heraldd >/dev/null
    swift build -c release --product herald >/dev/null
    BIN="$REPO/.build/release"
fi
NOW=2026-11-20T00:00:00Z
DATA="$REPO/Benchmarks/.data/$USERS"
mkdir -p "$DATA"
[ -f "$DATA/events.ndjson" ] || "$BIN/herald" sample --users "$USERS" --seed 7 --now "$NOW" --out "$DATA"

PORT="$(free_port)"
TOKEN=console-bench-token-0123456789
printf '%s' "$TOKEN" > "$WORK/token"
mkdir -p "$WORK/campaigns" "$WORK/var"
cat > "$WORK/herald.yaml" <<YAML
store:
  sqlite: var/herald.db
campaigns: campaigns
api:
  listen: 127.0.0.1:$PORT
  token_file: $WORK/token
  public_url: http://127.0.0.1:$PORT
attributes:
  country: string
  plan: string
  avg_order_value: number
  vip_since: timestamp
  tags: list
  first_name: string
  lifetime_value: number
channels:
  outbox: var/outbox
  email:
    from: "Shop <news@shop.example>"
    rate: 1/s
YAML
cat > "$WORK/campaigns/bench.yaml" <<YAML
id: bench
name: Console benchmark
status: active
audience:
  segment: "true"
trigger:
  api: true
send_time:
  strategy: immediate
  within: 30d
conversion:
  event: purchase
  within: 7d
experiment:
  holdout: 10%
  variants:
    - { id: a, weight: 50 }
    - { id: b, weight: 50 }
message:
  channel: email
  email:
    subject: "Hello"
    text: "Hello"
YAML
cat > "$WORK/campaigns/welcome.yaml" <<YAML
id: welcome
name: Welcome journey
status: active
audience:
  segment: "true"
trigger:
  event: signed_up
steps:
  - id: hello
    message:
      channel: email
      email: { subject: "Welcome", text: "Hello" }
    send_time: { strategy: immediate, within: 24h }
  - id: later
    wait: 1d
YAML
cd "$WORK"
echo "importing $USERS users"
"$BIN/herald" users import --config herald.yaml "$DATA/users.ndjson" >/dev/null
"$BIN/herald" events import --config herald.yaml "$DATA/events.ndjson" >/dev/null
"$BIN/heraldd" --config herald.yaml 2> heraldd.log & PIDS+=($!)
wait_listen "$PORT"
BASE="http://127.0.0.1:$PORT"
echo "planning the campaign for every user"
time curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"occurrence":"bench"}' \
    "$BASE/v1/campaigns/bench/trigger" --max-time 3600
echo
curl -sf -c cookies -o /dev/null -d "token=$TOKEN" "$BASE/console/sign-in"
USER_ID="$(head -1 "$DATA/users.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
printf '%-40s %10s %10s\n' page "median ms" "worst ms"
for page in /console/campaigns /console/campaigns/bench /console/journeys/welcome "/console/user?id=$USER_ID" \
    /console/queue /console/tail; do
    times=()
    for _ in $(seq 1 "$RUNS"); do
        times+=("$(curl -sf -b cookies -o /dev/null -w '%{time_total}' "$BASE$page")")
    done
    printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
t = [float(x) * 1000 for x in sys.stdin.read().split()]
print("%-40s %10.1f %10.1f" % (sys.argv[1], statistics.median(t), max(t)))' "$page"
done
