#!/bin/sh
# Builds and runs the segment benchmark (release, no SwiftPM): Fuzz/bench.sh
set -eu
cd "$(dirname "$0")/.."
out=.build/segment-bench
mkdir -p .build
core=Sources/HeraldCore
swiftc -O -parse-as-library -swift-version 6 -module-name HeraldCore -o "$out" \
  $core/Segment/*.swift $core/Values/*.swift $core/Diagnostics/*.swift $core/Time/*.swift $core/Audience/*.swift \
  Fuzz/SegmentBench.swift
"$out"
