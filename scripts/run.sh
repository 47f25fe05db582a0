#!/usr/bin/env bash
# Installs what is missing, builds Herald, seeds the sample audience into the embedded SQLite store,
# validates the example campaigns and starts heraldd with them. No provider is configured, so every
# message goes to the outbox (var/outbox: .eml for email, .json for SMS and webhooks). To show the whole
# path at once it triggers the `flash-sale` campaign through the HTTP API, tracks an event, then prints
# `herald logs` and `herald stats`, after opening one of the emails through its tracking pixel (engagement is
# measured from the ledger). heraldd keeps running in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product herald
swift build -c release --product heraldd
herald=.build/release/herald
export HERALD_CONFIG="$PWD/herald.yaml"
mkdir -p var
if [ ! -f var/herald.db ]; then
    "$herald" sample --users 2000 --seed 42 --out var/sample
    "$herald" users import var/sample/users.ndjson
    "$herald" events import var/sample/events.ndjson
fi
"$herald" validate
for c in campaigns/*.yaml; do
    id=$(basename "$c" .yaml)
    printf '  %-22s ' "$id"
    "$herald" audience --campaign "$id" --count
done

listen=$(sed -n 's/^  listen: *//p' herald.yaml)
.build/release/heraldd --config herald.yaml 2> var/heraldd.log &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 200); do
    curl -fs "http://$listen/readyz" >/dev/null 2>&1 && break
    kill -0 $daemon 2>/dev/null || { cat var/heraldd.log; exit 1; }
    sleep 0.05
done
token=$(cat var/api-token)
echo
echo "heraldd is serving on http://$listen (log: var/heraldd.log, bearer token: var/api-token)"
echo "POST /v1/campaigns/flash-sale/trigger:"
curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"occurrence\": \"run-$(date -u +%Y%m%d)\"}" "http://$listen/v1/campaigns/flash-sale/trigger"
echo
echo "POST /v1/track (a purchase by u0000001):"
curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"userId": "u0000001", "event": "purchase", "properties": {"amount": 42.5}}' "http://$listen/v1/track"
echo
echo "A new user signs up (the onboarding journey starts 10 minutes later):"
curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"userId\": \"newcomer-1\", \"traits\": {\"email\": \"newcomer@example.com\", \"first_name\": \"Ada\", \"createdAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}" \
    "http://$listen/v1/identify" >/dev/null
curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"userId": "newcomer-1", "event": "signed_up"}' "http://$listen/v1/track"
echo
"$herald" journey user onboarding newcomer-1 || true
echo
# Until the outbox stops growing (sends deferred by quiet hours stay scheduled for later).
previous=-1
for _ in $(seq 1 100); do
    count=$(ls var/outbox 2>/dev/null | wc -l)
    [ "$count" -gt 0 ] && [ "$count" = "$previous" ] && break
    previous=$count
    sleep 0.3
done
# Engagement comes from the ledger only (docs/segments.md): before this run nothing was sent, so every
# user's engagement() was null. Open one of the emails just sent, as its reader's mail client would: the
# tracking pixel records the open, and that user's engagement is now real.
eml=$(ls var/outbox/*.eml 2>/dev/null | head -1 || true)
if [ -n "$eml" ]; then
    read -r reader pixel < <(python3 - "$eml" <<'PY'
import email, html, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
body = next((p.get_payload(decode=True).decode() for p in m.walk() if p.get_content_type() == "text/html"), "")
pixel = re.search(r'<img src="([^"]*/o/[^"]*)"', body)
print(m["To"].strip("<> ").split("@")[0], html.unescape(pixel.group(1)) if pixel else "")
PY
    ) || true
    if [ -n "${pixel:-}" ]; then
        echo
        echo "GET the open pixel in $(basename "$eml"), as $reader's mail client would:"
        # A demonstration only: a hiccup here must not stop the tour.
        curl -fsS -o /dev/null "$pixel" || true
        "$herald" users show "$reader" | grep '^  engagement' || true
    fi
fi
echo
"$herald" logs --campaign flash-sale --limit 8
echo
"$herald" stats flash-sale
echo
echo "outbox: $(ls var/outbox | wc -l) messages in var/outbox, e.g. $(ls var/outbox | head -1)"
echo "heraldd keeps running; try: $herald logs --follow   (Ctrl-C here stops heraldd)"
wait $daemon
