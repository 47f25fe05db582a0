"""APNs fake checks: aioapns (the reference asyncio client) for the success path, the error cues, the JWT rules
and GOAWAY; curl (libcurl, Herald's own transport) for TLS/ALPN; a raw HTTP/2 client for hand-made headers."""
import asyncio
import json
import logging
import os
import signal
import ssl
import subprocess
import sys
import time
import uuid

import jwt
from aioapns import APNs, NotificationRequest, PushType
from aioapns.connection import APNsProductionClientProtocol

from h2_client import H2Client

logging.getLogger("aioapns").setLevel(logging.CRITICAL)   # it logs every refused push as an error
HERE = os.path.dirname(os.path.abspath(__file__))
TEAM, KID, TOPIC = "TEAM123456", "KEY1234567", "com.example.shop"
TOKEN = "a1" * 32


def make_key(path):
    subprocess.run([sys.executable, os.path.join(HERE, "apns_server.py"), "make-key", path], check=True)
    with open(path) as f:
        return f.read()


def client(fake, key, team=TEAM, kid=KID):
    """An aioapns client aimed at the fake: its protocol class names the host and port, the SSL context trusts
    the fake's CA. Nothing else of aioapns is changed."""
    class Protocol(APNsProductionClientProtocol):
        APNS_SERVER = "localhost"
        APNS_PORT = fake.port
    context = ssl.create_default_context(cafile=fake.file("tls/ca.pem"))
    apns = APNs(key=key, key_id=kid, team_id=team, topic=TOPIC, ssl_context=context, max_connections=1,
                max_connection_attempts=3)
    apns.pool.protocol_class = Protocol
    return apns


def alert(token=TOKEN, **options):
    return NotificationRequest(device_token=token, message={"aps": {"alert": {"title": "Hi", "body": "cart"}},
                                                            "herald_key": "k1"},
                               push_type=PushType.ALERT, **options)


def jwt_for(key, iat, team=TEAM, kid=KID):
    return jwt.encode({"iss": team, "iat": iat}, key, algorithm="ES256", headers={"kid": kid})


async def success_and_cues(checks, fake, key):
    apns = client(fake, key)
    ids = [str(uuid.uuid4()) for _ in range(20)]
    results = await asyncio.gather(*[apns.send_notification(alert(notification_id=i, priority=10, time_to_live=3600,
                                                                  collapse_key="cart")) for i in ids])
    checks.equal([r.status for r in results], ["200"] * 20, "apns: 20 concurrent pushes succeed")
    checks.equal([r.notification_id for r in results], ids, "apns: the apns-id of each push is echoed back")
    records = fake.records()
    checks.equal({r["conn"] for r in records}, {1}, "apns: concurrent pushes share one connection")
    checks.equal(sorted(r["stream"] for r in records), list(range(1, 41, 2)), "apns: one stream per push")
    first = records[0]
    checks.equal(first["payload"], {"aps": {"alert": {"title": "Hi", "body": "cart"}}, "herald_key": "k1"},
                 "apns: the JSON payload is recorded")
    checks.equal({k: first["headers"].get(k) for k in ("apns-topic", "apns-push-type", "apns-priority",
                                                        "apns-collapse-id")},
                 {"apns-topic": TOPIC, "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": "cart"},
                 "apns: the apns-* headers are recorded")
    checks.expect(first["jwt"]["iss"] == TEAM and first["jwt"]["kid"] == KID and first["token"] == TOKEN,
                  "apns: the JWT claims and the device token are recorded", repr(first))
    checks.equal(len(fake.stats()["jwt_iats"]), 1, "apns: one provider token for the whole connection")

    cues = [("dead" + "0" * 60, "410", "Unregistered"), ("e410" + "0" * 60, "410", "ExpiredToken"),
            ("0400" + "0" * 60, "400", "BadDeviceToken"), ("0429" + "0" * 60, "429", "TooManyRequests"),
            ("0500" + "0" * 60, "500", "InternalServerError"), ("0503" + "0" * 60, "503", "ServiceUnavailable"),
            ("not-hex", "400", "BadDeviceToken")]
    for token, status, reason in cues:
        result = await apns.send_notification(alert(token))
        checks.equal((result.status, result.description), (status, reason), f"apns: cue {token[:7]}")
    dead = await apns.send_notification(alert("dead" + "1" * 60))
    checks.expect(isinstance(dead.timestamp, int) and abs(dead.timestamp / 1000 - time.time()) < 60,
                  "apns: 410 Unregistered carries a timestamp in milliseconds", repr(dead.timestamp))
    once = [await apns.send_notification(alert("1503" + "0" * 60)) for _ in range(2)]
    checks.equal([r.status for r in once], ["503", "200"], "apns: a 1xxx cue fails only the first push")

    size_checks = [
        (alert(collapse_key="c" * 64), "200", None), (alert(collapse_key="c" * 65), "400", "BadCollapseId"),
        (alert(priority=7), "400", "BadPriority"), (alert(apns_topic="com.other.app"), "400", "DeviceTokenNotForTopic"),
    ]
    for size, status in ((4096, "200"), (4097, "413")):
        padding = size - len(json.dumps({"aps": {}, "pad": ""}, ensure_ascii=False).encode())
        request = NotificationRequest(device_token=TOKEN, message={"aps": {}, "pad": "x" * padding})
        size_checks.append((request, status, None if status == "200" else "PayloadTooLarge"))
    for request, status, reason in size_checks:
        result = await apns.send_notification(request)
        checks.equal((result.status, result.description), (status, reason),
                     f"apns: header/payload rule expecting {status} {reason}")

    fake.control({"fail": 2, "status": 503, "reason": "ServiceUnavailable"})
    scripted = [(await apns.send_notification(alert())).status for _ in range(3)]
    checks.equal(scripted, ["503", "503", "200"], "apns: the control file fails the next N pushes")

    fake.control({"goaway": "Shutdown"})
    before = fake.records()[-1]["conn"]
    result = await apns.send_notification(alert())
    checks.equal(result.status, "200", "apns: after GOAWAY aioapns resends on a new connection")
    checks.expect(fake.records()[-1]["conn"] != before and fake.stats().get("goaways") == 1,
                  "apns: the GOAWAY closed the old connection", repr(fake.records()[-1]))
    apns.pool.close()


async def provider_tokens(checks, fake, key):
    other = make_key(fake.file("other.p8"))
    for apns, what in ((client(fake, other), "a key it does not know"), (client(fake, key, team="OTHERTEAM1"),
                                                                         "another team id"),
                       (client(fake, key, kid="OTHERKEY12"), "another key id")):
        result = await apns.send_notification(alert())
        checks.equal((result.status, result.description), ("403", "InvalidProviderToken"),
                     f"apns: a JWT from {what} is refused")
        apns.pool.close()
    fake.control({"advance": 3601})
    apns = client(fake, key)
    result = await apns.send_notification(alert())
    checks.equal((result.status, result.description), ("403", "ExpiredProviderToken"),
                 "apns: a JWT older than an hour is refused")
    fake.control({"offset": 0})
    result = await apns.send_notification(alert())
    checks.equal(result.status, "200", "apns: the clock offset is reset by the control file")
    apns.pool.close()


def raw_requests(checks, fake, key):
    """Hand-made requests on one connection."""
    h2 = H2Client(fake.port, fake.file("tls/ca.pem"))
    checks.equal(h2.alpn, "h2", "apns: ALPN selects h2")
    now = int(time.time())
    auth = ("authorization", "bearer " + jwt_for(key, now))
    headers = [auth, ("apns-topic", TOPIC), ("apns-push-type", "alert")]
    body = b'{"aps":{"alert":"hi"}}'
    apns_id = str(uuid.uuid4()).upper()
    status, answer, _ = h2.request("POST", "/3/device/" + TOKEN, headers + [("apns-id", apns_id)], body)
    checks.equal((status, answer.get("apns-id")), (200, apns_id), "apns: 200 echoes the given apns-id")
    status, answer, _ = h2.request("POST", "/3/device/" + TOKEN, headers, body)
    checks.expect(status == 200 and len(answer.get("apns-id", "")) == 36, "apns: an apns-id is made when absent",
                  repr(answer))
    cases = [
        ("no authorization", "POST", "/3/device/" + TOKEN, headers[1:], body, 403, "MissingProviderToken"),
        ("GET", "GET", "/3/device/" + TOKEN, headers, b"", 405, "MethodNotAllowed"),
        ("bad path", "POST", "/2/device/" + TOKEN, headers, body, 404, "BadPath"),
        ("no token", "POST", "/3/device/", headers, body, 400, "MissingDeviceToken"),
        ("bad apns-id", "POST", "/3/device/" + TOKEN, headers + [("apns-id", "42")], body, 400, "BadMessageId"),
        ("bad push type", "POST", "/3/device/" + TOKEN, [auth, ("apns-topic", TOPIC), ("apns-push-type", "banner")],
         body, 400, "InvalidPushType"),
        ("no topic", "POST", "/3/device/" + TOKEN, [auth], body, 400, "MissingTopic"),
        ("bad expiration", "POST", "/3/device/" + TOKEN, headers + [("apns-expiration", "soon")], body, 400,
         "BadExpirationDate"),
        ("duplicate topic", "POST", "/3/device/" + TOKEN, headers + [("apns-topic", TOPIC)], body, 400,
         "DuplicateHeaders"),
        ("empty payload", "POST", "/3/device/" + TOKEN, headers, b"", 400, "PayloadEmpty"),
        ("not JSON", "POST", "/3/device/" + TOKEN, headers, b"hello", 400, "BadPayload"),
        ("voip payload of 5000 bytes", "POST", "/3/device/" + TOKEN,
         [auth, ("apns-topic", TOPIC + ".voip"), ("apns-push-type", "voip")],
         json.dumps({"aps": {}, "p": "x" * 4980}).encode(), 200, None),
    ]
    for what, method, path, case_headers, case_body, want_status, want_reason in cases:
        status, answer, data = h2.request(method, path, case_headers, case_body)
        reason = json.loads(data)["reason"] if data else None
        checks.equal((status, reason), (want_status, want_reason), f"apns: {what}")
    # A new token 60 s after the connection's first one is too soon; the original one still works.
    status, _, data = h2.request("POST", "/3/device/" + TOKEN, [("authorization", "bearer " + jwt_for(key, now - 60))]
                                 + headers[1:], body)
    checks.equal((status, data and json.loads(data)["reason"]), (429, "TooManyProviderTokenUpdates"),
                 "apns: a connection's JWT may not change within 20 minutes")
    status, _, _ = h2.request("POST", "/3/device/" + TOKEN, [("authorization", "bearer " + jwt_for(key, now + 1200))]
                              + headers[1:], body)
    checks.equal(status, 200, "apns: a JWT 20 minutes newer is taken")
    # Once the connection's token has expired, a new one is taken however soon it comes.
    renewal = H2Client(fake.port, fake.file("tls/ca.pem"))
    old = [("authorization", "bearer " + jwt_for(key, now - 3000))] + headers[1:]
    checks.equal(renewal.request("POST", "/3/device/" + TOKEN, old, body)[0], 200, "apns: a 50-minute-old JWT works")
    fake.control({"advance": 700})
    status, _, data = renewal.request("POST", "/3/device/" + TOKEN, old, body)
    checks.equal((status, json.loads(data)["reason"]), (403, "ExpiredProviderToken"), "apns: it expires at 60 min")
    fresh = [("authorization", "bearer " + jwt_for(key, now - 2400))] + headers[1:]
    checks.equal(renewal.request("POST", "/3/device/" + TOKEN, fresh, body)[0], 200,
                 "apns: renewing an expired JWT is not TooManyProviderTokenUpdates")
    fake.control({"offset": 0})
    renewal.close()
    fake.control({"fail": 1, "status": 503, "reason": "ServiceUnavailable", "retry_after": 7})
    status, answer, data = h2.request("POST", "/3/device/" + TOKEN, [("authorization", "bearer " +
                                                                     jwt_for(key, now + 1200))] + headers[1:], body)
    checks.equal((status, answer.get("retry-after"), json.loads(data)["reason"]), (503, "7", "ServiceUnavailable"),
                 "apns: a scripted failure may carry Retry-After")
    h2.close()


def curl_push(checks, fake, key):
    """libcurl, as Herald uses it: HTTP/2 negotiated by ALPN, the fake's CA as CAINFO."""
    command = ["curl", "-sS", "--http2", "--cacert", fake.file("tls/ca.pem"), "-o", "/dev/null",
               "-w", "%{http_code} %{http_version}", "-H", "authorization: bearer " + jwt_for(key, int(time.time())),
               "-H", f"apns-topic: {TOPIC}", "-H", "apns-push-type: alert", "-H", "apns-priority: 5",
               "--data-binary", '{"aps":{"alert":"curl"}}', f"https://127.0.0.1:{fake.port}/3/device/{TOKEN}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=20)
    checks.equal(out.stdout, "200 2", f"apns: curl pushes over HTTP/2 with the CA file ({out.stderr.strip()})")


def ramp_and_fast(checks, start, key_path, key):
    """--initial-streams lifts the limit after a valid JWT; --fast still answers, records nothing, counts."""
    ramp = start("apns-ramp", "apns_server.py", ["--key-file", key_path, "--team-id", TEAM, "--key-id", KID,
                                                  "--topic", TOPIC, "--cert-dir", "{dir}/tls", "--initial-streams",
                                                  "1", "--max-streams", "500"])
    h2 = H2Client(ramp.port, ramp.file("tls/ca.pem"))
    h2.settle()
    checks.equal(h2.max_streams, 1, "apns: --initial-streams is the first SETTINGS limit")
    h2.request("POST", "/3/device/" + TOKEN, [("authorization", "bearer " + jwt_for(key, int(time.time()))),
                                              ("apns-topic", TOPIC)], b'{"aps":{}}')
    checks.equal(h2.max_streams, 500, "apns: the limit rises to --max-streams after a valid JWT")
    h2.close()
    ramp.stop()
    fast = start("apns-fast", "apns_server.py", ["--key-file", key_path, "--team-id", TEAM, "--key-id", KID,
                                                  "--topic", TOPIC, "--cert-dir", "{dir}/tls", "--fast"])

    async def burst():
        apns = client(fast, key)
        results = await asyncio.gather(*[apns.send_notification(alert()) for _ in range(200)])
        apns.pool.close()
        return results
    results = asyncio.run(burst())
    checks.equal({r.status for r in results}, {"200"}, "apns --fast: 200 pushes succeed")
    fast.process.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    stats = fast.stats()
    checks.equal((stats["requests"], stats.get("jwt_verifications")), (200, 1),
                 "apns --fast: counted, and the JWT verified once")
    checks.equal(fast.records(), [], "apns --fast: nothing recorded")
    fast.stop()


def run(checks, start, root):
    key_path = os.path.join(root, "apns-key.p8")
    key = make_key(key_path)
    fake = start("apns", "apns_server.py", ["--key-file", key_path, "--team-id", TEAM, "--key-id", KID,
                                             "--topic", TOPIC, "--cert-dir", "{dir}/tls"])
    try:
        asyncio.run(success_and_cues(checks, fake, key))
        asyncio.run(provider_tokens(checks, fake, key))
        raw_requests(checks, fake, key)
        curl_push(checks, fake, key)
    finally:
        fake.stop()
    ramp_and_fast(checks, start, key_path, key)
