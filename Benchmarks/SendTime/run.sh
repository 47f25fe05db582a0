#!/usr/bin/env bash
# The send-time benchmark (docs/send-time.md), numbers for the docs, never a timed test:
#   Benchmarks/SendTime/run.sh [USERS] [PLAN_USERS]     (defaults: 20000, 1000000)
# 1. quality: best_time against the original model, the population's best hour, a per-user hour-of-week
#    reference and the true-rhythm ceiling, on USERS synthetic users (seed 7), scored on a held-out week;
# 2. speed: SendTimeModel alone per user, and one best_time campaign planned over PLAN_USERS users.
set -euo pipefail
cd "$(dirname "$0")"
# SwiftPM keeps the path dependency's file list in the build description: drop it so files added to
# HeraldCore since the last build are seen.
rm -f .build/release/description.json
swift build -c release --product sendtime-bench
.build/release/sendtime-bench quality --users "${1:-20000}" --by-kind
.build/release/sendtime-bench speed --users "${2:-1000000}"
