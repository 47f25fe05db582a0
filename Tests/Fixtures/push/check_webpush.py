"""Web Push fake checks: pywebpush (the reference sender: VAPID via py_vapid, aes128gcm via http_ece) for the
success path and the cues; hand-made requests for what pywebpush never sends wrong (TTL, Topic, Urgency, sub)."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import http_ece
import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPusher, WebPushException, webpush

import push_common as common

HERE = os.path.dirname(os.path.abspath(__file__))
SUBJECT = "mailto:ops@shop.example"


def make_vapid_key(path):
    subprocess.run([sys.executable, os.path.join(HERE, "webpush_server.py"), "make-vapid-key", path], check=True)


def push(subscription, key_path, data, **options):
    """The status (and response) of a pywebpush send; its exception carries the refusal."""
    try:
        response = webpush(subscription, data=data, vapid_private_key=key_path,
                           vapid_claims=dict(options.pop("claims", {}), sub=SUBJECT), **options)
        return response.status_code, response
    except WebPushException as error:
        return error.response.status_code, error.response


def raw_push(subscription, key, headers, plaintext=b'{"t":"raw"}', claims=None, auth=None):
    """A request built by hand: http_ece encryption and a PyJWT-signed VAPID token, then any headers."""
    receiver = common.b64url_decode(subscription["keys"]["p256dh"])
    body = http_ece.encrypt(plaintext, private_key=ec.generate_private_key(ec.SECP256R1()), dh=receiver,
                            auth_secret=auth or common.b64url_decode(subscription["keys"]["auth"]),
                            version="aes128gcm")
    endpoint = subscription["endpoint"]
    origin = endpoint[:endpoint.index("/push/")]
    token = jwt.encode(claims if claims is not None else {"aud": origin, "exp": int(time.time()) + 3600,
                                                          "sub": SUBJECT},
                       key, algorithm="ES256")
    public = common.b64url(key.public_key().public_bytes(
        common.serialization.Encoding.X962, common.serialization.PublicFormat.UncompressedPoint))
    base = {"Authorization": f"vapid t={token}, k={public}", "TTL": "60", "Content-Encoding": "aes128gcm"}
    base.update(headers)
    request = urllib.request.Request(endpoint, data=body, method="POST",
                                     headers={k: v for k, v in base.items() if v is not None})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def with_reference_client(checks, fake, key_path, subscriptions):
    sub1 = subscriptions["sub1"]
    data = json.dumps({"title": "Hi", "body": "Your cart", "herald_key": "k1"})
    status, response = push(sub1, key_path, data, ttl=86400, headers={"Urgency": "high", "Topic": "cart"})
    checks.expect(status == 201 and "/message/" in response.headers.get("Location", ""),
                  "webpush: pywebpush's push is 201 Created with a Location", f"{status} {dict(response.headers)}")
    record = fake.records()[-1]
    checks.equal((record["plaintext"], record["ttl"], record["urgency"], record["topic"]),
                 (data, 86400, "high", "cart"), "webpush: the decrypted payload and headers are recorded")
    checks.equal((record["vapid"]["aud"], record["vapid"]["sub"]), (subscriptions["sub1"]["endpoint"].split(
        "/push/")[0], SUBJECT), "webpush: the VAPID claims are recorded")
    cues = [("gone1", 410), ("notfound1", 404), ("toolarge1", 413), ("busy1", 429), ("down1", 503)]
    for sub_id, expected in cues:
        status, response = push(subscriptions[sub_id], key_path, "x", ttl=60)
        checks.equal(status, expected, f"webpush: cue {sub_id}")
        if expected in (429, 503):
            checks.equal(response.headers.get("Retry-After"), "1", f"webpush: {expected} carries Retry-After")
    checks.equal([push(subscriptions["once-busy1"], key_path, "x", ttl=60)[0] for _ in range(2)], [429, 201],
                 "webpush: a once- cue fails only the first push")
    unknown = dict(sub1, endpoint=sub1["endpoint"].replace("/push/sub1", "/push/nosuch"))
    checks.equal(push(unknown, key_path, "x", ttl=60)[0], 404, "webpush: an unknown subscription is 404")
    checks.equal(push(sub1, key_path, "x" * 3993, ttl=60)[0], 201, "webpush: 3993 plaintext bytes fit in 4096")
    checks.equal(push(sub1, key_path, "x" * 3994, ttl=60)[0], 413, "webpush: 3994 plaintext bytes are too many")
    checks.equal(push(sub1, key_path, "x", ttl=60, content_encoding="aesgcm")[0], 415,
                 "webpush: the old aesgcm encoding is refused")
    other = fake.file("other.pem")
    make_vapid_key(other)
    checks.equal(push(sub1, other, "x", ttl=60)[0], 403, "webpush: a VAPID key other than the subscription's is 403")
    checks.equal(push(sub1, key_path, "x", ttl=60, claims={"aud": "https://elsewhere.example"})[0], 401,
                 "webpush: a VAPID aud other than the endpoint's origin is 401")
    checks.equal(push(sub1, key_path, "x", ttl=60, claims={"exp": int(time.time()) + 25 * 3600})[0], 401,
                 "webpush: a VAPID exp more than 24 h ahead is 401")
    fake.control({"fail": 1, "status": 503, "retry_after": 3})
    first, response = push(sub1, key_path, "x", ttl=60)
    checks.equal((first, response.headers.get("Retry-After"), push(sub1, key_path, "x", ttl=60)[0]), (503, "3", 201),
                 "webpush: the control file fails the next push, with Retry-After")


def by_hand(checks, fake, key_path, subscriptions):
    with open(key_path, "rb") as f:
        key = common.serialization.load_pem_private_key(f.read(), password=None)
    sub1 = subscriptions["sub1"]
    origin = sub1["endpoint"].split("/push/")[0]
    now = int(time.time())
    checks.equal(raw_push(sub1, key, {}), 201, "webpush: a hand-made push (http_ece + PyJWT) is 201")
    checks.equal(fake.records()[-1]["json"], {"t": "raw"}, "webpush: its plaintext is recorded as JSON")
    cases = [
        ("no TTL", {"TTL": None}, None, None, 400),
        ("a TTL that is not a number", {"TTL": "soon"}, None, None, 400),
        ("an unknown Urgency", {"Urgency": "urgent"}, None, None, 400),
        ("a 33-character Topic", {"Topic": "t" * 33}, None, None, 400),
        ("a Topic with a dot", {"Topic": "cart.v2"}, None, None, 400),
        ("no Content-Encoding", {"Content-Encoding": None}, None, None, 400),
        ("no Authorization", {"Authorization": None}, None, None, 401),
        ("the old WebPush scheme", {"Authorization": "WebPush abc"}, None, None, 401),
        ("a VAPID token without sub", {}, {"aud": origin, "exp": now + 3600}, None, 401),
        ("an expired VAPID token", {}, {"aud": origin, "exp": now - 10, "sub": SUBJECT}, None, 401),
        ("a body for other keys", {}, None, b"\x00" * 16, 400),
    ]
    for what, headers, claims, auth, expected in cases:
        checks.equal(raw_push(sub1, key, headers, claims=claims, auth=auth), expected, f"webpush: {what}")


def tls(checks, start, key_path):
    fake = start("webpush-tls", "webpush_server.py", ["--subscriptions", "{dir}/subs.json", "--tls", "{dir}/tls"])
    try:
        with open(fake.file("subs.json")) as f:
            subscription = json.load(f)["subscriptions"]["sub1"]
        session = requests.Session()
        session.trust_env = False   # else REQUESTS_CA_BUNDLE from the environment wins over verify
        session.verify = fake.file("tls/ca.pem")
        origin = subscription["endpoint"].split("/push/")[0]
        from py_vapid import Vapid
        vapid = Vapid.from_file(key_path).sign({"aud": origin, "exp": int(time.time()) + 3600, "sub": SUBJECT})
        response = WebPusher(subscription, requests_session=session).send("over TLS", headers=vapid, ttl=60)
        checks.expect(response.status_code == 201 and origin.startswith("https://"),
                      "webpush --tls: pywebpush pushes over HTTPS", f"{response.status_code} {response.text}")
        checks.equal(fake.records()[-1]["plaintext"], "over TLS", "webpush --tls: the plaintext is recorded")
    finally:
        fake.stop()


def run(checks, start, root):
    key_path = os.path.join(root, "vapid.pem")
    make_vapid_key(key_path)
    fake = start("webpush", "webpush_server.py", ["--subscriptions", "{dir}/subs.json", "--count", "2",
                                                   "--vapid-key", key_path] +
                 [arg for sub in ("gone1", "notfound1", "toolarge1", "busy1", "down1", "once-busy1") for arg in ("--sub", sub)])
    try:
        with open(fake.file("subs.json")) as f:
            listed = json.load(f)
        subscriptions = listed["subscriptions"]
        checks.equal(sorted(subscriptions), sorted(["sub1", "sub2", "gone1", "notfound1", "toolarge1", "busy1",
                                                    "down1", "once-busy1"]), "webpush: the subscriptions file lists them all")
        checks.expect(all(s["endpoint"].startswith(listed["origin"] + "/push/") and len(common.b64url_decode(
            s["keys"]["p256dh"])) == 65 and len(common.b64url_decode(s["keys"]["auth"])) == 16
            for s in subscriptions.values()), "webpush: each subscription has an endpoint, p256dh and auth")
        with_reference_client(checks, fake, key_path, subscriptions)
        by_hand(checks, fake, key_path, subscriptions)
        stats = fake.stats()
        checks.equal(stats["pushes"], len(fake.records()), "webpush: every push is recorded and counted")
    finally:
        fake.stop()
    tls(checks, start, key_path)
