#!/usr/bin/env bash
# Delivery benchmark: webhook deliveries/s from Herald's CurlEngine to a local nginx, side by side
# with `curl --parallel --parallel-max 64`, libcurl's multi interface driven from C, and `wrk -t2 -c64`; SMTP messages/s from the engine to
# postfix's smtp-sink, side by side with `smtp-source`, with and without PIPELINING offered. All on 127.0.0.1; servers stopped by PID.
#
# Usage: Benchmarks/Delivery/run.sh [COUNT]     (needs scripts/install-deps.sh --test for nginx,
#        wrk, postfix's smtp-sink/smtp-source)
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT="${1:-20000}"
source Benchmarks/scripts/loopback.sh
bench_workdir herald-bench
OUT="$WORK/results.txt"; : > "$OUT"
# The engine's side is Benchmarks/Sources/delivery-bench, a release build.
swift build -c release --package-path Benchmarks --product delivery-bench
BENCH=Benchmarks/.build/release/delivery-bench

# --- webhooks ---------------------------------------------------------------------------------
HTTP_PORT="$(free_port)"
start_nginx "$HTTP_PORT"
URL="http://127.0.0.1:$HTTP_PORT/hooks/push"
printf '{"type":"cart.abandoned","user":"u0000001","campaign":"cart-abandoned","title":"You left something behind","text":"Ben, your cart is waiting.","badge":1,"ts":1795432530}' > "$WORK/body.json"
echo "body: $(wc -c < "$WORK/body.json") bytes, $COUNT requests" | tee -a "$OUT"

for _ in $(seq 1 "$COUNT"); do echo "url = \"$URL\""; done > "$WORK/urls.cfg"
start=$(date +%s.%N)
curl --parallel --parallel-max 64 -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data-binary @"$WORK/body.json" -K "$WORK/urls.cfg"
end=$(date +%s.%N)
python3 -c "print('curl --parallel --parallel-max 64: %d in %.2f s = %.0f/s' % ($COUNT, $end-$start, $COUNT/($end-$start)))" | tee -a "$OUT"

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("$WORK/body.json"):read("*a")
LUA
wrk -t2 -c64 -d5s -s "$WORK/post.lua" "$URL" | awk '/Requests\/sec/ {print "wrk -t2 -c64 -d5s: " $2 "/s"}' | tee -a "$OUT"

# libcurl's own ceiling: its multi interface driven from C on one thread, the same requests (unsigned).
"${CC:-clang}" -O2 -o "$WORK/libcurl-multi" Benchmarks/Delivery/libcurl-multi.c -lcurl
"$WORK/libcurl-multi" "$URL" "$WORK/body.json" "$COUNT" 64 | tee -a "$OUT"

HERALD_BENCH_OUT="$OUT" HERALD_BENCH_WEBHOOK_URL="$URL" HERALD_BENCH_BODY="$WORK/body.json" HERALD_BENCH_COUNT="$COUNT" \
HERALD_BENCH_CONCURRENCY=64 "$BENCH" webhooks > "$WORK/engine-http.log" 2>&1 \
    || { cat "$WORK/engine-http.log"; exit 1; }

# --- SMTP -------------------------------------------------------------------------------------
SMTP_PORT="$(free_port)"
smtp-sink -u nobody -a 127.0.0.1:"$SMTP_PORT" 256 & PIDS+=($!)
wait_listen "$SMTP_PORT"
start=$(date +%s.%N)
smtp-source -d -s 20 -m "$COUNT" -l 600 -f news@shop.example -t ann@example.org 127.0.0.1:"$SMTP_PORT"
end=$(date +%s.%N)
python3 -c "print('smtp-source -d -s 20 (connection reuse): %d in %.2f s = %.0f/s' % ($COUNT, $end-$start, $COUNT/($end-$start)))" | tee -a "$OUT"
start=$(date +%s.%N)
smtp-source -s 20 -m "$COUNT" -l 600 -f news@shop.example -t ann@example.org 127.0.0.1:"$SMTP_PORT"
end=$(date +%s.%N)
python3 -c "print('smtp-source -s 20 (new connection each): %d in %.2f s = %.0f/s' % ($COUNT, $end-$start, $COUNT/($end-$start)))" | tee -a "$OUT"
HERALD_BENCH_OUT="$OUT" HERALD_BENCH_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" HERALD_BENCH_COUNT="$COUNT" \
HERALD_BENCH_CONCURRENCY=20 HERALD_BENCH_LABEL="server offers PIPELINING" "$BENCH" smtp > "$WORK/engine-smtp.log" 2>&1 \
    || { cat "$WORK/engine-smtp.log"; exit 1; }

# The same against a sink that does not offer PIPELINING (`smtp-sink -p`): one command per round trip.
PLAIN_PORT="$(free_port)"
smtp-sink -u nobody -p -a 127.0.0.1:"$PLAIN_PORT" 256 & PIDS+=($!)
wait_listen "$PLAIN_PORT"
start=$(date +%s.%N)
smtp-source -d -s 20 -m "$COUNT" -l 600 -f news@shop.example -t ann@example.org 127.0.0.1:"$PLAIN_PORT"
end=$(date +%s.%N)
python3 -c "print('smtp-source -d -s 20, sink without PIPELINING: %d in %.2f s = %.0f/s' % ($COUNT, $end-$start, $COUNT/($end-$start)))" | tee -a "$OUT"
HERALD_BENCH_OUT="$OUT" HERALD_BENCH_SMTP_URL="smtp://127.0.0.1:$PLAIN_PORT" HERALD_BENCH_COUNT="$COUNT" \
HERALD_BENCH_CONCURRENCY=20 HERALD_BENCH_LABEL="server without PIPELINING" "$BENCH" smtp > "$WORK/engine-smtp-plain.log" 2>&1 \
    || { cat "$WORK/engine-smtp-plain.log"; exit 1; }

echo "== results"
cat "$OUT"
