#!/usr/bin/env bash
# Issue 3's decision-engine benchmarks, numbers for the README (never timed tests):
#   Benchmarks/decision-run.sh [USERS]    (default 1,000,000 users)
# 1. send-time quality: best_time vs a fixed 10:00 local send vs the population's best hour;
# 2. one campaign planned in memory over USERS users (segment, consent, caps, best_time);
# 3. `herald dry-run` end to end on a USERS-user SQLite store (snapshot load included).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1000000}
now=2026-11-20T00:00:00Z
data=Benchmarks/.data/$users
mkdir -p "$data"
swift build -c release --product herald
swift build -c release --package-path Benchmarks --product decision-bench
herald=.build/release/herald
bench=Benchmarks/.build/release/decision-bench

"$bench" quality --users 20000
/usr/bin/time -f "  process: wall %e s, user %U s, peak RSS %M KB" "$bench" scale --users "$users"

if [ ! -f "$data/events.ndjson" ]; then
    "$herald" sample --users "$users" --seed 7 --now "$now" --out "$data"
fi
# The example herald.yaml (policy caps, adaptive caps, quiet hours, segments) on a store of its own.
sed "s#sqlite: var/herald.db#sqlite: $PWD/$data/decision.db#; s#^campaigns: campaigns#campaigns: $PWD/campaigns#; s#^templates: templates#templates: $PWD/templates#" \
    herald.yaml > "$data/decision.yaml"
export HERALD_CONFIG="$PWD/$data/decision.yaml"
if [ ! -f "$data/decision.db" ]; then
    "$herald" users import "$data/users.ndjson" > /dev/null 2>&1 || true
    "$herald" events import "$data/events.ndjson" > /dev/null 2>&1 || true
fi
for campaign in vip-offer winback-dormant; do
    echo "herald dry-run $campaign over $users users:"
    /usr/bin/time -f "  wall %e s, user %U s, peak RSS %M KB" "$herald" dry-run "$campaign" --at "$now" --show 0 \
        | sed -n '4p;8,12p'
done
