# Generates USERS users and EVENTS events as NDJSON (users.ndjson, events.ndjson) for scripts/bench-import.sh.
import random, sys, json
random.seed(1)
nu, ne = int(sys.argv[1]), int(sys.argv[2])
with open("users.ndjson", "w") as f:
    for i in range(nu):
        f.write('{"id":"user%07d","email":"u%d@example.com","phone":"+861380%07d","timezone":"Asia/Shanghai","country":"%s","avg_order_value":%.2f,"plan":"%s","tags":["a","b"],"created_at":"2025-0%d-15T08:00:00+08:00"}\n' % (i, i, i, random.choice(["CN","HK","US"]), random.random()*300, random.choice(["free","pro"]), random.randint(1,9)))
names = ["purchase", "view", "open", "click", "add_to_cart"]
base = 1767225600
with open("events.ndjson", "w") as f:
    for i in range(ne):
        u = random.randrange(nu)
        n = random.choice(names)
        ts = base + random.randrange(365*86400)
        if n == "purchase":
            f.write('{"user_id":"user%07d","event":"purchase","timestamp":%d,"properties":{"amount":%.2f,"sku":"SKU%d"}}\n' % (u, ts, random.random()*500, random.randrange(1000)))
        else:
            f.write('{"user_id":"user%07d","event":"%s","timestamp":"%s","properties":{"page":"/p/%d"}}\n' % (u, n, __import__("time").strftime("%Y-%m-%dT%H:%M:%SZ", __import__("time").gmtime(ts)), random.randrange(100)))
