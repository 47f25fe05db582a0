#!/usr/bin/env python3
"""Prints the benchmark table from the JSON files one Benchmarks/run.sh produced."""
import json, re, sys

folder = sys.argv[1]
h = json.load(open(f"{folder}/herald.json"))
d = json.load(open(f"{folder}/duckdb.json"))
imp = open(f"{folder}/import-events.txt").read()
m = re.search(r"(\d+) rows read, (\d+) inserted.* in ([\d.]+) s", imp)
rows, secs = int(m.group(1)), float(m.group(3))
print(f"users {h['users']:,}  events {h['events']:,}")
print(f"import events (NDJSON -> SQLite)   {rows / secs:,.0f} events/s   target >= 200,000")
print(f"segment bulk, Herald               {h['bulk_median_ms']:.1f} ms   ({h['matches']} matches)")
print(f"segment bulk, DuckDB (count)       {d['count_median_ms']:.1f} ms   ({d['matches']} matches)")
print(f"segment bulk, DuckDB (ids)         {d['ids_median_ms']:.1f} ms")
print(f"ratio Herald / DuckDB ids          {h['bulk_median_ms'] / d['ids_median_ms']:.2f}x   target <= 2x")
print(f"single-user evaluation median      {h['single_median_us']:.2f} us   target <= 5 us")
print(f"snapshot load from SQLite          {h['snapshot_load_s']:.1f} s")
print(f"snapshot bytes per user            {h['bytes_per_user_profile']:.0f} profile + {h['bytes_per_user_attributes']:.0f} attributes + {h['bytes_per_user_events']:.0f} events   target <= 300 + attributes")
print(f"resident growth per user (RSS)     {h['rss_bytes_per_user']:.0f}")
if h["matches"] != d["matches"]:
    print(f"MISMATCH: Herald matched {h['matches']}, DuckDB {d['matches']}")
    sys.exit(1)
