#!/usr/bin/env bash
# Herald's foundation benchmarks, each beside its peer, on the same data in the same run.
#   Benchmarks/run.sh [USERS]      (default 1,000,000 users, ~12 events each)
# Prints a table and writes Benchmarks/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1000000}
now=2026-11-20T00:00:00Z
data=Benchmarks/.data/$users
mkdir -p "$data" Benchmarks/results
./scripts/install-deps.sh
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
swift build -c release --product herald
swift build -c release --package-path Benchmarks --product herald-bench
herald=.build/release/herald
bench=Benchmarks/.build/release/herald-bench

if [ ! -f "$data/events.ndjson" ]; then
    "$herald" sample --users "$users" --seed 7 --now "$now" --out "$data"
fi
# The example herald.yaml with its own store and absolute folders.
sed -e "s#sqlite: var/herald.db#sqlite: $PWD/$data/bench.db#" -e "s#^campaigns: campaigns#campaigns: $PWD/campaigns#" \
    -e "s#^templates: templates#templates: $PWD/templates#" -e "s#outbox: var/outbox#outbox: $PWD/$data/outbox#" \
    herald.yaml > "$data/bench.yaml"
rm -f "$data"/bench.db*
export HERALD_CONFIG="$PWD/$data/bench.yaml"

# Import: events per second into SQLite (users first, so events find their users).
"$herald" users import "$data/users.ndjson" | tee "$data/import-users.txt"
"$herald" events import "$data/events.ndjson" | tee "$data/import-events.txt"

# Segment evaluation: Herald's bulk and single-user evaluators, then DuckDB on the same files.
"$bench" --config "$HERALD_CONFIG" --now "$now" > "$data/herald.json"
python3 Benchmarks/scripts/duckdb_segment.py "$data" "$(date -d "$now" +%s)" 10 > "$data/duckdb.json"
python3 Benchmarks/scripts/report.py "$data" | tee Benchmarks/results/latest.txt
