#!/bin/sh
# Measures NDJSON import and snapshot load of the SQLite store in a release build.
# Usage: Benchmarks/import/bench-import.sh [USERS] [EVENTS]   (defaults: 1000000 2000000)
# Builds a throwaway package in $WORK (default /tmp/herald-bench-import) that depends on this
# checkout, so the main Package.swift stays free of benchmark targets.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/herald-bench-import}
USERS=${1:-1000000}
EVENTS=${2:-2000000}
ID=$(basename "$ROOT" | tr 'A-Z' 'a-z')
mkdir -p "$WORK/Sources/bench"
cp "$ROOT/Benchmarks/import/main.swift" "$WORK/Sources/bench/main.swift"
cat > "$WORK/Package.swift" <<PKG
// swift-tools-version:6.1
import PackageDescription
let package = Package(
    name: "bench",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "$ROOT")],
    targets: [.executableTarget(name: "bench", dependencies: [
        .product(name: "HeraldLedger", package: "$ID"), .product(name: "HeraldSQLite", package: "$ID"),
        .product(name: "HeraldIngest", package: "$ID"), .product(name: "HeraldCore", package: "$ID")])]
)
PKG
cd "$WORK"
[ -f users.ndjson ] && [ -f events.ndjson ] || python3 "$ROOT/Benchmarks/import/gen.py" "$USERS" "$EVENTS"
swift build -c release
rm -f bench.sqlite bench.sqlite-wal bench.sqlite-shm
.build/release/bench bench.sqlite users.ndjson events.ndjson
