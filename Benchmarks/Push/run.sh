#!/usr/bin/env bash
# Push benchmark: APNs pushes/s from Herald's engine (APNsSender: ES256 provider token, one HTTP/2 connection with
# many streams) side by side with `h2load` (nghttp2) and `aioapns` (asyncio APNs client), all three against the same
# local HTTP/2 TLS server in the same run, ROUNDS times each; prints each figure, the medians and the ratios
# engine/h2load (target ≥ 0.5) and engine/aioapns (target ≥ 2). Servers, in turn:
#   fake   Tests/Fixtures/push/apns_server.py --fast: checks what APNs checks (JWT signature once per distinct
#          token, token age, apns-* headers, body size) on every push. Python: 150-250 µs of CPU per push, so a
#          client near its limit is measuring the fake (its CPU use is printed as "server busy").
#   nginx  nginx with HTTP/2 over TLS, answering 200 + the request's apns-id to POST /3/device/… when the request
#          has the shape of a push (bearer JWT, topic, body ≤ 4096 bytes); no signature check. C: it is not the limit,
#          so it shows how close each client gets to what it can do. Run after the fake has accepted the same
#          requests. Skipped when nginx is missing or HERALD_BENCH_NGINX=0.
# Each line also has the client's CPU time per push; "server busy" is the server's CPU time over the wall time.
#
# Usage: Benchmarks/Push/run.sh [COUNT]   (default 20000 pushes; HERALD_BENCH_ROUNDS=3, HERALD_BENCH_INFLIGHT=100)
# Needs scripts/install-deps.sh --test (h2load from nghttp2-client; h2, PyJWT, cryptography, aioapns; nginx).
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT="${1:-20000}"
ROUNDS="${HERALD_BENCH_ROUNDS:-3}"
INFLIGHT="${HERALD_BENCH_INFLIGHT:-100}"
source Benchmarks/scripts/loopback.sh
for tool in h2load python3; do
    command -v "$tool" >/dev/null || { echo "push benchmark: $tool is missing; run scripts/install-deps.sh --test" >&2; exit 1; }
done
python3 -c 'import aioapns, jwt, h2, cryptography' 2>/dev/null \
    || { echo "push benchmark: aioapns, PyJWT, h2 or cryptography is missing; run scripts/install-deps.sh --test" >&2; exit 1; }
bench_workdir herald-push
OUT="$WORK/results.txt"; : > "$OUT"
ROWS="$WORK/rows.tsv"; : > "$ROWS"
FAKE=Tests/Fixtures/push/apns_server.py
TEAM=TEAM123456 KID=KEY1234567 TOPIC=com.example.shop
# The engine's side is Benchmarks/Sources/push-bench, a release build.
swift build -c release --package-path Benchmarks --product push-bench
BENCH=Benchmarks/.build/release/push-bench

# The same key, provider token and body for every client: the body has the engine's shape and size (its ledger key
# and so its herald_key differ per push, with the same width).
python3 "$FAKE" make-key "$WORK/key.p8"
python3 - "$WORK/body.json" "$("$BENCH" body)" <<'PY'
import json, sys
body = {"aps": {"alert": {"title": "You left something behind", "body": "Ben, your cart is waiting."}, "badge": 1,
                "sound": "default"}, "campaign": "cart-abandoned", "herald_key": "bench:00000000"}
text = json.dumps(body, separators=(",", ":"))
assert len(text) == int(sys.argv[2]), f"body is {len(text)} bytes, the engine's {sys.argv[2]}"
open(sys.argv[1], "w").write(text)
PY
# Every push goes to another device: tokens 1…COUNT as 64 hex digits, as push-bench and aioapns_bench.py make them.
python3 -c 'import sys; print("\n".join("/3/device/%064x" % (i + 1) for i in range(int(sys.argv[1]))))' "$COUNT" > "$WORK/paths.txt"
JWT="$(python3 -c 'import jwt, sys, time; print(jwt.encode({"iss": sys.argv[2], "iat": int(time.time())},
    open(sys.argv[1]).read(), algorithm="ES256", headers={"kid": sys.argv[3]}))' "$WORK/key.p8" "$TEAM" "$KID")"
echo "$COUNT pushes per client per round, $INFLIGHT in flight, body $(wc -c < "$WORK/body.json") bytes, $ROUNDS rounds;" \
     "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start" | tee -a "$OUT"

# CPU seconds (user + system) used so far by process $1.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
now() { date +%s.%N; }
# row SERVER CLIENT ROUND LINE SERVER_CPU_BEFORE SECONDS: records the pushes/s and CPU/push printed in LINE.
row() {
    local rate cpu busy
    rate="$(grep -o '[0-9.]* pushes/s' <<< "$4" | cut -d' ' -f1)"
    cpu="$(grep -o '[0-9.]* µs CPU' <<< "$4" | cut -d' ' -f1)"
    busy="$(python3 -c "import sys; print('%.0f' % (100 * ($(cpu_of "$SERVER_PID") - $5) / $6))")"
    echo "  $4; server busy $busy%" | tee -a "$OUT"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${rate:-0}" "${cpu:-0}" "$busy" >> "$ROWS"
}

run_clients() {  # SERVER PORT
    local server="$1" port="$2" round before start line
    for round in $(seq 1 "$ROUNDS"); do
        echo "[$server] round $round, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
        # (a) Herald's engine.
        before="$(cpu_of "$SERVER_PID")"; start="$(now)"
        line="$(HERALD_BENCH_URL="https://127.0.0.1:$port" HERALD_BENCH_CA="$WORK/tls/ca.pem" HERALD_BENCH_KEY="$WORK/key.p8" \
                HERALD_BENCH_TEAM="$TEAM" HERALD_BENCH_KID="$KID" HERALD_BENCH_TOPIC="$TOPIC" HERALD_BENCH_COUNT="$COUNT" \
                HERALD_BENCH_CONCURRENCY="$INFLIGHT" "$BENCH" apns 2>&1)" || { echo "$line"; exit 1; }
        row "$server" engine "$round" "$(head -1 <<< "$line")" "$before" "$(python3 -c "print($(now) - $start)")"
        tail -n +2 <<< "$line" | tee -a "$OUT"
        # (b) h2load: one connection, the same streams in flight, the same headers and body.
        before="$(cpu_of "$SERVER_PID")"; start="$(now)"
        # h2load sends one apns-id for all (it cannot vary a header); the engine and aioapns send one per push.
        sed "s|^|https://127.0.0.1:$port|" "$WORK/paths.txt" > "$WORK/uris.txt"
        python3 - "$WORK/h2load.txt" h2load -n "$COUNT" -c 1 -m "$INFLIGHT" -i "$WORK/uris.txt" -d "$WORK/body.json" \
            -H "authorization: bearer $JWT" -H "apns-id: 3F2504E0-4F89-41D3-9A0C-0305E82C3301" \
            -H "apns-topic: $TOPIC" -H "apns-push-type: alert" -H "apns-priority: 10" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    code = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "a") as out:
    out.write("cpu %f\n" % (usage.ru_utime + usage.ru_stime))
sys.exit(code)
PY
        line="$(python3 - "$WORK/h2load.txt" "$COUNT" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
done = re.search(r"requests: .* (\d+) succeeded, (\d+) failed", text)
rate = re.search(r"finished in ([\d.]+)(s|ms|us), ([\d.]+) req/s", text)
codes = re.search(r"status codes: (\d+) 2xx", text)
cpu = float(re.search(r"^cpu ([\d.]+)", text, re.M).group(1))
if not (done and rate and codes):
    sys.exit("h2load output not understood:\n" + text)
ok = int(codes.group(1))
seconds = float(rate.group(1)) / {"s": 1, "ms": 1e3, "us": 1e6}[rate.group(2)]
print("h2load: %d ok, %d failed in %.2f s = %.0f pushes/s, %.1f µs CPU per push"
      % (ok, int(sys.argv[2]) - ok, seconds, ok / seconds, cpu / max(ok, 1) * 1e6))
PY
)"
        row "$server" h2load "$round" "$line" "$before" "$(python3 -c "print($(now) - $start)")"
        # (c) aioapns, with its own connection pool and JWT.
        before="$(cpu_of "$SERVER_PID")"; start="$(now)"
        line="$(python3 Benchmarks/Push/aioapns_bench.py "$port" "$WORK/tls/ca.pem" "$WORK/key.p8" "$TEAM" "$KID" "$TOPIC" \
                "$WORK/body.json" "$COUNT" "$INFLIGHT" 2>&1)" || { echo "$line"; exit 1; }
        row "$server" aioapns "$round" "$(tail -1 <<< "$line")" "$before" "$(python3 -c "print($(now) - $start)")"
    done
}

# --- the APNs fake ---------------------------------------------------------------------------------
python3 "$FAKE" "$WORK/ready" /dev/null --fast --key-file "$WORK/key.p8" --team-id "$TEAM" --key-id "$KID" \
    --topic "$TOPIC" --cert-dir "$WORK/tls" --stats "$WORK/stats.json" > "$WORK/fake.log" 2>&1 & PIDS+=($!)
SERVER_PID=$!
for _ in $(seq 1 500); do [ -s "$WORK/ready" ] && break; sleep 0.02; done
[ -s "$WORK/ready" ] || { cat "$WORK/fake.log"; exit 1; }
run_clients fake "$(cat "$WORK/ready")"
kill -USR1 "$SERVER_PID"; sleep 0.2
python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print("fake stats: requests %d, by status %s, connections %d, JWT verifications %d" % (s["requests"], s["by_status"], s["connections"], s["jwt_verifications"]))' \
    "$WORK/stats.json" | tee -a "$OUT"

# --- nginx -----------------------------------------------------------------------------------------
if [ "${HERALD_BENCH_NGINX:-1}" != 0 ] && command -v nginx >/dev/null; then
    NGINX_PORT="$(free_port)"
    cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK;
    client_body_buffer_size 8k;
    client_max_body_size 4k;
    keepalive_requests 100000000;
    http2_max_concurrent_streams 1000;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl http2;
        ssl_certificate $WORK/tls/cert.pem;
        ssl_certificate_key $WORK/tls/key.pem;
        location /3/device/ {
            if (\$request_method != POST) { return 405; }
            if (\$http_authorization !~ "^bearer [-_A-Za-z0-9]+\.[-_A-Za-z0-9]+\.[-_A-Za-z0-9]+\$") { return 403; }
            if (\$http_apns_topic != "$TOPIC") { return 400; }
            if (\$content_length ~ "^([0-9]{5,}|[5-9][0-9]{3}|4[1-9][0-9][0-9]|409[7-9])\$") { return 413; }
            # APNs answers once the whole request is in. nginx's \`return\` would answer before reading the body and
            # then reset the stream, which libcurl 7.88 reports as an error: mirror_request_body makes nginx read the
            # body first, empty_gif refuses the POST with 405 and error_page turns that into APNs' 200.
            mirror /read-body;
            mirror_request_body on;
            empty_gif;
            error_page 405 =200 @accepted;
        }
        location = /read-body { internal; return 204; }
        location @accepted {
            add_header apns-id \$http_apns_id always;
            return 200;
        }
        location / { return 404; }
    }
}
NGINX
    nginx -c "$WORK/nginx.conf" & PIDS+=($!)
    wait_listen "$NGINX_PORT"
    SERVER_PID="$(ps -o pid= --ppid "$!" | head -1 | tr -d ' ')"  # the one worker, which does the work
    run_clients nginx "$NGINX_PORT"
fi

echo "== medians of $ROUNDS rounds ($COUNT pushes each, $INFLIGHT in flight), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
    | tee -a "$OUT"
python3 - "$ROWS" <<'PY' | tee -a "$OUT"
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    server, client, _, rate, cpu, busy = line.split("\t")
    rows[server, client].append((float(rate), float(cpu), float(busy)))
for server in dict.fromkeys(s for s, _ in rows):
    med = {c: [statistics.median(x) for x in zip(*rows[server, c])] for s, c in rows if s == server}
    print(f"{server}:")
    for client, (rate, cpu, busy) in med.items():
        print(f"  {client:8} {rate:8.0f} pushes/s  {cpu:7.1f} µs CPU/push  server busy {busy:.0f}%")
    e = med["engine"][0]
    print(f"  engine/h2load {e / med['h2load'][0]:.2f} (target ≥ 0.5)   engine/aioapns {e / med['aioapns'][0]:.2f} (target ≥ 2)")
PY
