#!/usr/bin/env bash
# The bandit benchmark (docs/experiments.md), numbers for the docs, never a timed test:
#   Benchmarks/Bandit/run.sh [SENDS] [SEEDS]     (defaults: 100000, 20)
# Simulates sends to arms with known rates and prints, per rate set, the reward of uniform allocation and
# of ThompsonBandit (floors 10 % — the campaign default —, 5 % and none) as a share of always sending the
# best arm, with the posterior updated after every send and every 1,000 sends, beside the best reward a
# policy with that floor can reach.
set -euo pipefail
cd "$(dirname "$0")/.."
# SwiftPM keeps the path dependency's file list in the build description: drop it so files added to
# HeraldCore since the last build are seen.
rm -f .build/release/description.json
swift build -c release --product bandit-bench
.build/release/bandit-bench --sends "${1:-100000}" --seeds "${2:-20}"
