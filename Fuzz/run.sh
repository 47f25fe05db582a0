#!/bin/sh
# Fuzzes the segment lexer, parser and checker with libFuzzer: Fuzz/run.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
out=.build/segment-fuzz
mkdir -p .build Fuzz/corpus .build/fuzz-artifacts
core=Sources/HeraldCore
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -module-name HeraldCore -o "$out" \
  $core/Segment/*.swift $core/Values/*.swift $core/Diagnostics/*.swift $core/Time/*.swift $core/Audience/*.swift \
  Fuzz/SegmentFuzz.swift
# New inputs go to a scratch folder so the committed seed corpus stays small.
mkdir -p .build/fuzz-corpus
"$out" -max_total_time="${1:-60}" -max_len=4096 -dict=Fuzz/segment.dict -artifact_prefix=.build/fuzz-artifacts/ .build/fuzz-corpus Fuzz/corpus
