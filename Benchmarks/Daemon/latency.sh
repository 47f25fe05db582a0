#!/usr/bin/env bash
# Daemon benchmark: end-to-end latency of an event campaign, from `POST /v1/track` leaving the client to the
# signed webhook reaching a local nginx (release heraldd, ledger on SQLite, `immediate` event campaign, no
# delay). nginx logs each request's arrival ($msec) with its `webhook-id` (the ledger key
# `latency/ev-<time>/<user>/1`); each event is for a user of its own, so the key names the event it answers.
# Two runs on the same daemon: one client sending one event at a time, then CLIENTS clients at once.
#
# Usage: Benchmarks/Daemon/latency.sh [EVENTS] [CLIENTS] [USERS]   (needs nginx: scripts/install-deps.sh --test)
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-2000}"
CLIENTS="${2:-8}"
USERS="${3:-10000}"
if (( USERS < 2 * EVENTS )); then echo "USERS must be at least 2 × EVENTS (one user per event, two runs)" >&2; exit 64; fi
REPO="$PWD"
source Benchmarks/scripts/loopback.sh
bench_workdir herald-latency-bench
swift build -c release --product heraldd >/dev/null
swift build -c release --product herald >/dev/null
BIN="$REPO/.build/release"

# The receiver: nginx answering 204 and logging "<arrival, epoch s with ms> <webhook-id>" per request, unbuffered.
HTTP_PORT="$(free_port)"
start_nginx "$HTTP_PORT" "log_format arrival '\$msec \$http_webhook_id'; access_log $WORK/arrivals.log arrival;"

API_PORT="$(free_port)"
mkdir -p "$WORK/campaigns" "$WORK/var"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' > "$WORK/secret"
printf 'latency-bench-token-0123456789' > "$WORK/token"
cat > "$WORK/herald.yaml" <<YAML
store:
  sqlite: var/herald.db
campaigns: campaigns
api:
  listen: 127.0.0.1:$API_PORT
  token_file: $WORK/token
  public_url: http://127.0.0.1:$API_PORT
attributes:
  country: string
channels:
  outbox: var/outbox
  webhook:
    endpoints:
      hook: { url: "http://127.0.0.1:$HTTP_PORT/hooks/push", secret_file: $WORK/secret, rate: 1000000/s }
YAML
# No delay: the smallest the campaign parser accepts is none at all (`delay` is optional, and must be > 0 when given).
cat > "$WORK/campaigns/latency.yaml" <<YAML
id: latency
name: Event to webhook latency
status: active
audience:
  segment: country == "US"
trigger:
  event: signal
send_time:
  strategy: immediate
  within: 1h
message:
  channel: webhook
  webhook:
    endpoint: hook
    body: { "user": "{{user_id}}", "title": "Latency benchmark" }
YAML
python3 -c "
import json
with open('$WORK/users.ndjson','w') as f:
    for i in range($USERS): f.write(json.dumps({'id':'u%07d'%i,'country':'US'})+'\n')"
"$BIN/herald" users import "$WORK/users.ndjson" --config "$WORK/herald.yaml" >/dev/null

cd "$WORK"
"$BIN/heraldd" --config "$WORK/herald.yaml" 2> "$WORK/heraldd.log" & DAEMON=$!; PIDS+=($DAEMON)
echo "\$ Benchmarks/Daemon/latency.sh $EVENTS $CLIENTS $USERS"
python3 - "$API_PORT" "$WORK/token" "$WORK/arrivals.log" "$WORK/heraldd.log" "$EVENTS" "$CLIENTS" "$DAEMON" <<'PY'
import http.client, json, os, sys, threading, time
port, token, arrivals, log = int(sys.argv[1]), open(sys.argv[2]).read().strip(), sys.argv[3], sys.argv[4]
events, clients, pid = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])

def wait(cond, what, limit=120):
    end = time.time() + limit
    while time.time() < end:
        if cond(): return
        time.sleep(0.02)
    sys.exit(f"timed out waiting for {what}; heraldd log:\n" + open(log).read()[-3000:])

def ready():
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/readyz")
        return c.getresponse().status == 200
    except OSError:
        return False
wait(ready, "/readyz")

def arrived():
    """webhook-id → first arrival (epoch s); the user is the key's third part."""
    seen = {}
    with open(arrivals) as f:
        for line in f:
            at, _, key = line.strip().partition(" ")
            if key.startswith("latency/"):
                seen.setdefault(key.split("/")[2], float(at))
    return seen

def run(label, first_user, n, k):
    sent, acked = {}, {}
    lock = threading.Lock()
    def client(users):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        for u in users:
            body = json.dumps({"userId": u, "event": "signal", "messageId": "lat-" + u})
            t0 = time.time()
            c.request("POST", "/v1/track", body, headers)
            r = c.getresponse()
            r.read()
            t1 = time.time()
            if r.status != 200: sys.exit(f"track answered {r.status}")
            with lock:
                sent[u], acked[u] = t0, t1
    users = ["u%07d" % i for i in range(first_user, first_user + n)]
    threads = [threading.Thread(target=client, args=(users[i::k],)) for i in range(k)]
    start = time.time()
    for t in threads: t.start()
    for t in threads: t.join()
    took = time.time() - start
    wait(lambda: len(set(users) & arrived().keys()) == n, f"{n} webhooks")
    seen = arrived()
    lat = sorted((seen[u] - sent[u]) * 1000 for u in users)
    ack = sorted((acked[u] - sent[u]) * 1000 for u in users)
    pct = lambda xs, p: xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
    print(f"heraldd event → webhook, {label}: {n} events at {n / took:.0f}/s; latency p50 {pct(lat, 50):.1f} ms, "
          f"p90 {pct(lat, 90):.1f} ms, p99 {pct(lat, 99):.1f} ms, max {lat[-1]:.1f} ms "
          f"(track acknowledged: p50 {pct(ack, 50):.1f} ms, p99 {pct(ack, 99):.1f} ms)")

run("1 client, one event at a time", 0, events, 1)
run(f"{clients} concurrent clients", events, events, clients)
rss = 0
for line in open(f"/proc/{pid}/status"):
    if line.startswith("VmHWM:"): rss = int(line.split()[1]) // 1024
print(f"nginx arrival times ($msec, ms resolution) minus client send times; same host clock; peak RSS {rss} MiB")
PY
