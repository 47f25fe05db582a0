"""aioapns's side of Benchmarks/Push/run.sh: N pushes with aioapns (the asyncio APNs client) to the local APNs
server, at most C in flight, then one line with pushes/s. Only its host, port and CA are changed; its pool, its
JWT and its HTTP/2 handling are aioapns's own.

usage: aioapns_bench.py PORT CA_FILE KEY_FILE TEAM KID TOPIC BODY_FILE COUNT CONCURRENCY [LABEL]"""
import asyncio
import json
import logging
import resource
import ssl
import sys
import time
from importlib.metadata import version

from aioapns import APNs, NotificationRequest, PushType
from aioapns.connection import APNsProductionClientProtocol

logging.getLogger("aioapns").setLevel(logging.CRITICAL)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(port, ca, key_file, team, kid, topic, body_file, count, concurrency, label):
    class Protocol(APNsProductionClientProtocol):
        APNS_SERVER = "localhost"
        APNS_PORT = port

    with open(key_file) as f:
        key = f.read()
    with open(body_file) as f:
        message = json.load(f)
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["h2"])  # aioapns offers no ALPN itself; nginx needs it to speak HTTP/2 (APNs does not)
    apns = APNs(key=key, key_id=kid, team_id=team, topic=topic, ssl_context=context)
    apns.pool.protocol_class = Protocol
    slots = asyncio.Semaphore(concurrency)

    async def push(i):
        async with slots:
            request = NotificationRequest(device_token="%064x" % (i + 1), message=message, push_type=PushType.ALERT, priority=10)
            result = await apns.send_notification(request)
            return result.is_successful

    warm = await asyncio.gather(*[push(count + i) for i in range(concurrency)])
    if not all(warm):
        print(f"aioapns{label}: warm-up failed", flush=True)
        sys.exit(1)
    cpu, start = cpu_seconds(), time.perf_counter()
    results = await asyncio.gather(*[push(i) for i in range(count)])
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    ok = sum(results)
    print("aioapns %s%s: %d ok, %d failed in %.2f s = %.0f pushes/s, %.1f µs CPU per push (in flight %d, %d connection(s))"
          % (version("aioapns"), label, ok, count - ok, seconds, ok / seconds, cpu / max(ok, 1) * 1e6, concurrency,
             len(apns.pool.connections)), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(int(a[0]), a[1], a[2], a[3], a[4], a[5], a[6], int(a[7]), int(a[8]),
                     f" ({a[9]})" if len(a) > 9 else ""))
