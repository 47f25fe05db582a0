#!/usr/bin/env python3
"""The DuckDB peer for Herald's segment benchmark: the same data, the same predicate, timed the same way.

Loads users.ndjson and events.ndjson (as `herald sample` writes them) into in-memory tables,
then times the segment query (count, and the matching ids) over several runs and prints JSON.
"""
import json, statistics, sys, time

import duckdb

def main():
    folder, now = sys.argv[1], int(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    t0 = time.perf_counter()
    con.execute(f"""
        CREATE TABLE users AS SELECT id, country, plan, avg_order_value
        FROM read_json('{folder}/users.ndjson', format='newline_delimited',
             columns={{'id':'VARCHAR','country':'VARCHAR','plan':'VARCHAR','avg_order_value':'DOUBLE'}})""")
    con.execute(f"""
        CREATE TABLE events AS SELECT DISTINCT user_id, event, epoch(CAST(timestamp AS TIMESTAMPTZ))::BIGINT AS ts,
               properties
        FROM read_json('{folder}/events.ndjson', format='newline_delimited',
             columns={{'user_id':'VARCHAR','event':'VARCHAR','timestamp':'VARCHAR','properties':'VARCHAR'}})""")
    # DISTINCT: Herald de-duplicates re-sent events (same user, event, time, properties), so the peer must too.
    load = time.perf_counter() - t0
    users = con.execute("SELECT count(*) FROM users").fetchone()[0]
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    # country in ["US","CN"] and plan != "free" and avg_order_value > 60
    #   and count(purchase, 90d) >= 1 and count(app_open, 30d) >= 2
    query = f"""
        SELECT u.id FROM users u
        JOIN (SELECT user_id FROM events WHERE event = 'purchase' AND ts BETWEEN {now} - 90*86400 AND {now}
              GROUP BY user_id HAVING count(*) >= 1) p ON p.user_id = u.id
        JOIN (SELECT user_id FROM events WHERE event = 'app_open' AND ts BETWEEN {now} - 30*86400 AND {now}
              GROUP BY user_id HAVING count(*) >= 2) a ON a.user_id = u.id
        WHERE u.country IN ('US', 'CN') AND u.plan <> 'free' AND u.avg_order_value > 60"""
    count_times, id_times, matches = [], [], None
    for _ in range(runs):
        t = time.perf_counter()
        n = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
        count_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        ids = con.execute(query).fetchall()
        id_times.append(time.perf_counter() - t)
        matches = n
        assert len(ids) == n
    print(json.dumps({
        "peer": "duckdb " + duckdb.__version__, "users": users, "events": events, "load_s": round(load, 2),
        "matches": matches, "count_median_ms": round(statistics.median(count_times) * 1000, 2),
        "ids_median_ms": round(statistics.median(id_times) * 1000, 2),
    }))

if __name__ == "__main__":
    main()
