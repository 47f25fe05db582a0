#!/usr/bin/env bash
# Installs what is missing, builds Herald, seeds the sample audience into the embedded SQLite store,
# validates the example campaigns, previews each campaign's audience and dry-runs the VIP offer.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product herald
herald=.build/release/herald
export HERALD_CONFIG="$PWD/herald.yaml"
mkdir -p var
if [ ! -f var/herald.db ]; then
    "$herald" sample --users 2000 --seed 42 --out var/sample
    "$herald" users import var/sample/users.ndjson
    "$herald" events import var/sample/events.ndjson
fi
"$herald" validate
echo
for c in campaigns/*.yaml; do
    id=$(basename "$c" .yaml)
    printf '%-22s ' "$id"
    "$herald" audience --campaign "$id" --count
done
echo
"$herald" dry-run vip-offer --show 1
echo
"$herald" users show u0000001
