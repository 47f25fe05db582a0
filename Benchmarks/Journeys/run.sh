#!/usr/bin/env bash
# Journey benchmark (docs/journeys.md): USERS users enter a five-step journey through POST /v1/batch, and
# heraldd (release build, SQLite store) moves every instance through two waits, a branch and a split to a
# wait_for that lasts a week. Reports, from the same run:
#   entries/s          signed_up events acknowledged and instances started, over the wall time of the posts
#   transitions/s      steps taken by the runner until every instance waits at the wait_for
#   bytes/instance     store growth (database + WAL) per waiting instance
#   RSS                heraldd's resident memory before the entries and with every instance waiting
#   track → next step  latency of POST /v1/track answering the wait (the move is made inside the call):
#                      p50 / p99 over 1,000 users, one call at a time
#
# Usage: Benchmarks/Journeys/run.sh [USERS]      (default 100000; needs sqlite3 and curl)
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS="${1:-100000}"
REPO="$PWD"
source Benchmarks/scripts/loopback.sh
bench_workdir herald-journey-bench
swift build -c release --product heraldd >/dev/null
swift build -c release --product herald >/dev/null
BIN="$REPO/.build/release"
PORT="$(free_port)"
mkdir -p "$WORK/campaigns" "$WORK/var"
echo "bench-token-0123456789abcdef" > "$WORK/token"
cat > "$WORK/herald.yaml" <<YAML
store:
  sqlite: var/herald.db
campaigns: campaigns
api:
  listen: 127.0.0.1:$PORT
  public_url: http://127.0.0.1:$PORT
  token_file: $WORK/token
attributes:
  country: string
channels:
  outbox: var/outbox
YAML
cat > "$WORK/campaigns/bench.yaml" <<YAML
id: bench
name: Journey benchmark
status: active
audience:
  segment: country == "US"
trigger:
  event: signed_up
steps:
  - id: first-wait
    wait: 1s
  - id: second-wait
    wait: 1s
  - id: pick
    branch:
      - { if: country == "FR", goto: await }
      - { else: split }
  - id: split
    split: [ { percent: 50, goto: await }, { percent: 50, goto: await } ]
  - id: await
    wait_for: { event: answered, within: 7d }
    on_timeout: exit
YAML
python3 -c "
import json
with open('$WORK/users.ndjson','w') as f:
    for i in range($USERS): f.write(json.dumps({'id':'u%07d'%i,'country':'US'})+'\n')"
"$BIN/herald" users import "$WORK/users.ndjson" --config "$WORK/herald.yaml" >/dev/null
"$BIN/heraldd" --config "$WORK/herald.yaml" 2> "$WORK/heraldd.log" & PIDS+=($!)
DAEMON=$!
wait_listen "$PORT"
exec python3 - "$WORK" "$PORT" "$USERS" "$DAEMON" <<'PY'
import concurrent.futures, json, os, sqlite3, sys, time, urllib.request
work, port, users, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
base = f"http://127.0.0.1:{port}"
token = open(f"{work}/token").read().strip()
db = f"{work}/var/herald.db"

def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()
        return r.status

def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])

def store_bytes():
    return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))

def count(sql):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try: return con.execute(sql).fetchone()[0]
    finally: con.close()

rss0, bytes0 = rss_kib(), store_bytes()
batches = [[{"type": "track", "userId": "u%07d" % i, "event": "signed_up", "messageId": f"s-{i}"}
            for i in range(k, min(users, k + 500))] for k in range(0, users, 500)]
t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    assert all(s == 200 for s in pool.map(lambda b: post("/v1/batch", {"batch": b}), batches))
t_posted = time.monotonic()
entered = count("SELECT count(*) FROM journey_instances")
print(f"entries: {entered} instances from {users} events in {t_posted - t0:.1f} s: {entered / (t_posted - t0):,.0f}/s")
while count("SELECT count(*) FROM journey_instances WHERE step = 'await'") < users:
    time.sleep(0.5)
t_waiting = time.monotonic()
steps = count("SELECT count(*) FROM journey_steps")
first_due = t_posted + 2  # the two one-second waits
print(f"transitions: {steps} steps until every instance waits, {t_waiting - t_posted:.1f} s after the last post "
      f"(2 s of it are the waits): {steps / max(0.001, t_waiting - first_due):,.0f}/s")
grown = store_bytes() - bytes0
print(f"store: {grown / users:,.0f} bytes per waiting instance (database + WAL, steps recorded included)")
rss1 = rss_kib()
print(f"heraldd RSS: {rss0 / 1024:,.1f} MiB before, {rss1 / 1024:,.1f} MiB with {users} instances waiting")
lat = []
for i in range(min(1000, users)):
    t = time.monotonic()
    post("/v1/track", {"userId": "u%07d" % i, "event": "answered"})
    lat.append(time.monotonic() - t)
moved = count("SELECT count(*) FROM journey_instances WHERE status = 'completed'")
lat.sort()
print(f"track → next step: p50 {lat[len(lat)//2]*1000:.1f} ms, p99 {lat[int(len(lat)*0.99)]*1000:.1f} ms "
      f"over {len(lat)} calls; {moved} instances completed by them")
PY
