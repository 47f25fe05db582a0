#!/usr/bin/env bash
# Daemon benchmark: sustained dispatch rate of heraldd (release build, ledger on SQLite) sending one signed
# webhook per user to a local nginx, from the moment the occurrence is planned until every row is `sent`.
# Side by side in the same run: wrk's ceiling against the same nginx.
#
# Usage: Benchmarks/Daemon/run.sh [USERS]      (needs nginx and wrk: scripts/install-deps.sh --test)
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS="${1:-100000}"
REPO="$PWD"
source Benchmarks/scripts/loopback.sh
bench_workdir herald-daemon-bench
swift build -c release --product heraldd >/dev/null
swift build -c release --product herald >/dev/null
BIN="$REPO/.build/release"

HTTP_PORT="$(free_port)"
start_nginx "$HTTP_PORT"

mkdir -p "$WORK/campaigns" "$WORK/var"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' > "$WORK/secret"
cat > "$WORK/herald.yaml" <<YAML
store:
  sqlite: var/herald.db
campaigns: campaigns
api:
  listen: 127.0.0.1:$(free_port)
  public_url: http://127.0.0.1:8025
attributes:
  country: string
channels:
  outbox: var/outbox
  webhook:
    endpoints:
      hook: { url: "http://127.0.0.1:$HTTP_PORT/hooks/push", secret_file: $WORK/secret, rate: 1000000/s }
YAML
cat > "$WORK/campaigns/bench.yaml" <<YAML
id: bench
name: Dispatch benchmark
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
    body: { "user": "{{user_id}}", "title": "Dispatch benchmark" }
YAML
python3 -c "
import json,sys
with open('$WORK/users.ndjson','w') as f:
    for i in range($USERS): f.write(json.dumps({'id':'u%07d'%i,'country':'US'})+'\n')"
"$BIN/herald" users import "$WORK/users.ndjson" --config "$WORK/herald.yaml" >/dev/null

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"user":"u0000001","title":"Dispatch benchmark"}'
LUA
WRK=$(wrk -t2 -c64 -d5s -s "$WORK/post.lua" "http://127.0.0.1:$HTTP_PORT/hooks/push" | awk '/Requests\/sec/ {print $2}')

cd "$WORK"
"$BIN/heraldd" --config "$WORK/herald.yaml" 2> "$WORK/heraldd.log" & DAEMON=$!; PIDS+=($DAEMON)
python3 - "$WORK/var/herald.db" "$USERS" "$WRK" "$WORK/heraldd.log" "$DAEMON" <<'PY'
import os, sqlite3, sys, time, re
db, users, wrk, log, pid = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
def wait(cond, what, limit=600):
    end = time.time() + limit
    while time.time() < end:
        if cond(): return
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}; log:\n" + open(log).read()[-3000:])
wait(lambda: "planned" in open(log).read(), "planning")
planned = time.time()
con = sqlite3.connect(db, timeout=30)
def sent():
    return con.execute("SELECT count(*) FROM ledger WHERE status = 'sent'").fetchone()[0]
wait(lambda: sent() >= users, "every send")
done = time.time()
rss = 0
for line in open(f"/proc/{pid}/status"):
    if line.startswith("VmHWM:"): rss = int(line.split()[1]) // 1024
fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
rate = users / (done - planned)
print(f"heraldd dispatch, ledger on SQLite: {users} webhooks in {done - planned:.2f} s = {rate:.0f}/s (peak RSS {rss} MiB, {cpu:.1f} CPU s in all, planning included)")
print(f"wrk -t2 -c64 -d5s against the same nginx: {wrk:.0f}/s; heraldd / wrk = {rate / wrk:.2f}")
PY
