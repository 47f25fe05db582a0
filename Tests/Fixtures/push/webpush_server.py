#!/usr/bin/env python3
"""A faithful fake of a Web Push service (RFC 8030 push resource, RFC 8291 aes128gcm, RFC 8292 VAPID).

Usage:
  webpush_server.py READY_FILE RECORD_FILE --subscriptions OUT.json [--count N] [--sub ID ...]
                    [--vapid-key FILE] [--control FILE] [--stats FILE] [--tls DIR] [--port P]
  webpush_server.py make-vapid-key OUT.pem     writes a fresh P-256 VAPID private key (PKCS#8 PEM)

HTTP/1.1 on 127.0.0.1 (HTTPS with --tls DIR: trust DIR/ca.pem). Before saying it is ready the server makes the
subscriptions (ids sub1..subN with --count, or the --sub ids) and writes them, as a browser's
PushSubscription.toJSON() would give them, to OUT.json; it keeps their private keys, so it can decrypt every
push it accepts and record the plaintext. POST /push/{id} checks VAPID, TTL, Urgency, Topic and the encoding;
subscription ids starting with a cue word fail on purpose. README.md beside this file documents it all.
"""
import argparse
import json
import os
import re
import secrets
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import push_common as common

MAX_BODY = 4096                 # RFC 8030: a push service must take at least 4096 bytes; the fake takes no more
MAX_TTL = 28 * 24 * 3600        # the TTL the fake will keep at most (echoed back in the TTL header)
MAX_VAPID_LIFETIME = 24 * 3600  # RFC 8292: exp no more than 24 hours ahead
URGENCIES = {"very-low", "low", "normal", "high"}
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")   # RFC 8030 section 5.4: up to 32 URL-safe base64 characters
# A subscription id starting with one of these words fails with that status; "once-" before the word fails only
# the first push to it. 429 and 503 come with Retry-After: 1.
CUES = {"gone": 410, "notfound": 404, "toolarge": 413, "busy": 429, "down": 503}
ERRNO = {400: 110, 401: 109, 403: 109, 404: 102, 410: 103, 413: 104, 415: 110, 429: 129, 503: 201}
PHRASES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone",
           413: "Payload Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests",
           503: "Service Unavailable"}


class Rejection(Exception):
    def __init__(self, status, message, retry_after=None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def raw_public_key(key):
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


class WebPushFake:
    def __init__(self, args):
        self.args = args
        self.clock = common.Clock()
        self.control = common.Control(args.control, self.clock)
        self.recorder = common.Recorder(args.record)
        self.stats = common.Stats(args.stats)
        self.subscriptions = {}   # id -> {"key": private key, "auth": bytes, "json": PushSubscription JSON}
        self.seen_once = set()
        self.lock = threading.Lock()
        self.origin = None
        self.application_server_key = None
        if args.vapid_key:
            self.application_server_key = raw_public_key(common.load_public_key(args.vapid_key))

    def subscribe(self, sub_id):
        key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        subscription = {"endpoint": f"{self.origin}/push/{sub_id}", "expirationTime": None,
                        "keys": {"p256dh": common.b64url(raw_public_key(key.public_key())),
                                 "auth": common.b64url(auth)}}
        with self.lock:
            self.subscriptions[sub_id] = {"key": key, "auth": auth, "json": subscription}
        return subscription

    def write_subscriptions(self):
        with self.lock:
            listed = {sub_id: s["json"] for sub_id, s in self.subscriptions.items()}
        common.write_atomically(self.args.subscriptions,
                                json.dumps({"origin": self.origin, "subscriptions": listed}, indent=2) + "\n")

    def verify_vapid(self, authorization):
        """The claims of a valid `vapid t=..., k=...` authorization; Rejection (401/403) otherwise."""
        scheme, _, params = (authorization or "").partition(" ")
        if scheme.lower() != "vapid":
            raise Rejection(401, "Missing or unsupported Authorization: expected the vapid scheme (RFC 8292)")
        parts = {}
        for item in params.split(","):
            name, _, value = item.strip().partition("=")
            parts[name.strip().lower()] = value.strip()
        if not parts.get("t") or not parts.get("k"):
            raise Rejection(401, "vapid authorization needs t= and k=")
        try:
            raw = common.b64url_decode(parts["k"])
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except (ValueError, TypeError):
            raise Rejection(401, "k= is not an uncompressed P-256 public key")
        try:
            if jwt.get_unverified_header(parts["t"]).get("alg") != "ES256":
                raise Rejection(401, "The VAPID JWT must be signed with ES256")
            claims = jwt.decode(parts["t"], key, algorithms=["ES256"],
                                options={"verify_exp": False, "verify_aud": False, "verify_iat": False,
                                         "verify_nbf": False})
        except jwt.PyJWTError as error:
            raise Rejection(401, f"Invalid VAPID JWT: {error}")
        if claims.get("aud") != self.origin:
            raise Rejection(401, f"VAPID aud must be the push resource's origin {self.origin}")
        exp, now = claims.get("exp"), self.clock.now()
        if not isinstance(exp, int) or exp <= now:
            raise Rejection(401, "VAPID exp is missing or in the past")
        if exp > now + MAX_VAPID_LIFETIME:
            raise Rejection(401, "VAPID exp is more than 24 hours ahead")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise Rejection(401, "VAPID sub must be a mailto: or https: URI")
        if self.application_server_key and raw != self.application_server_key:
            raise Rejection(403, "The VAPID key is not the applicationServerKey of this subscription")
        return {"aud": claims["aud"], "exp": exp, "sub": sub, "k": parts["k"]}

    def push(self, sub_id, headers, body):
        """Checks and decrypts one push; returns (record fields, answer headers) or raises Rejection."""
        failure = self.control.take_failure()
        if failure:
            raise Rejection(int(failure.get("status", 503)), failure.get("message", "scripted failure"),
                            failure.get("retry_after"))
        vapid = self.verify_vapid(headers.get("authorization"))
        fields = {"vapid": vapid}
        ttl = headers.get("ttl")
        if ttl is None or not ttl.strip().isdigit():
            raise Rejection(400, "A TTL header (seconds, a non-negative integer) is required")
        fields["ttl"] = int(ttl)
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise Rejection(400, f"Urgency must be one of {sorted(URGENCIES)}")
        topic = headers.get("topic")
        if topic is not None and not TOPIC.match(topic):
            raise Rejection(400, "Topic must be 1 to 32 characters of the URL-safe base64 alphabet")
        fields.update(urgency=urgency, topic=topic, content_encoding=headers.get("content-encoding"))
        if body and headers.get("content-encoding", "").lower() != "aes128gcm":
            raise Rejection(415 if headers.get("content-encoding") else 400,
                            "A payload must be encrypted with Content-Encoding: aes128gcm (RFC 8291)")
        if len(body) > MAX_BODY:
            raise Rejection(413, f"The encrypted body is {len(body)} bytes; at most {MAX_BODY} are accepted")
        with self.lock:
            subscription = self.subscriptions.get(sub_id)
        if subscription is None:
            raise Rejection(404, "No such subscription")
        once = sub_id.startswith("once-")
        word = next((w for w in CUES if sub_id[5 if once else 0:].startswith(w)), None)
        if word and (not once or sub_id not in self.seen_once):
            self.seen_once.add(sub_id)
            status = CUES[word]
            raise Rejection(status, f"Scripted {status} for subscription {sub_id}",
                            1 if status in (429, 503) else None)
        if body:
            try:
                plaintext = http_ece.decrypt(body, private_key=subscription["key"],
                                             auth_secret=subscription["auth"], version="aes128gcm")
            except Exception as error:
                # A real push service cannot see this (only the browser can decrypt); the fake says it out loud.
                raise Rejection(400, f"The body does not decrypt with the subscription's keys: {error!r}")
            fields["plaintext"] = plaintext.decode("utf-8", "replace")
            try:
                fields["json"] = json.loads(plaintext)
            except ValueError:
                fields["json"] = None
        message_id = str(uuid.uuid4())
        return fields, [("Location", f"{self.origin}/message/{message_id}"), ("TTL", str(min(int(ttl), MAX_TTL)))]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake = None

    def log_message(self, *args):
        pass

    def answer(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake.control.poll()
        path = self.path.split("?", 1)[0]
        if path.startswith("/subscribe/"):
            subscription = fake.subscribe(path[len("/subscribe/"):])
            fake.write_subscriptions()
            return self.answer(201, subscription)
        if not path.startswith("/push/"):
            return self.answer(404, {"code": 404, "errno": 102, "error": "Not Found", "message": "Unknown path"})
        sub_id = path[len("/push/"):]
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = {"id": sub_id, "body_bytes": len(body)}
        try:
            fields, answer_headers = fake.push(sub_id, headers, body)
            entry.update(fields, status=201, error=None)
            answer = (201, None, answer_headers)
        except Rejection as rejection:
            entry.update(status=rejection.status, error=rejection.message, ttl=headers.get("ttl"),
                         content_encoding=headers.get("content-encoding"))
            extra = [("Retry-After", str(rejection.retry_after))] if rejection.retry_after is not None else []
            answer = (rejection.status, {"code": rejection.status, "errno": ERRNO.get(rejection.status, 999),
                                         "error": PHRASES.get(rejection.status, "Error"),
                                         "message": rejection.message}, extra)
        entry["time"] = fake.clock.now()
        # Recorded before answering: a test that got its answer finds the record already there.
        fake.stats.count(entry["status"], pushes=1, accepted=int(entry["status"] == 201))
        fake.recorder.write(entry)
        self.answer(*answer)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main(argv):
    if argv[:1] == ["make-vapid-key"]:
        if len(argv) != 2:
            sys.exit("usage: webpush_server.py make-vapid-key OUT.pem")
        common.write_ec_private_key(argv[1])
        return
    parser = argparse.ArgumentParser(description="A fake Web Push service (RFC 8030/8291/8292).")
    parser.add_argument("ready")
    parser.add_argument("record")
    parser.add_argument("--subscriptions", required=True, help="where the made subscriptions are written (JSON)")
    parser.add_argument("--count", type=int, default=0, help="make subscriptions sub1..subN")
    parser.add_argument("--sub", action="append", default=[], help="make a subscription with this id")
    parser.add_argument("--vapid-key", help="restrict the subscriptions to this VAPID key (else: any key)")
    parser.add_argument("--control", help="a JSON file a test writes to script failures (read, then deleted)")
    parser.add_argument("--stats", help="a JSON file of counters, rewritten after every request")
    parser.add_argument("--tls", metavar="DIR", help="serve HTTPS with a throwaway CA written to DIR")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    common.unblock_signals()
    fake = WebPushFake(args)
    Handler.fake = fake
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    scheme = "http"
    if args.tls:
        tls = common.make_tls(args.tls)
        server.socket = common.server_ssl_context(tls, ["http/1.1"]).wrap_socket(server.socket, server_side=True)
        scheme = "https"
    fake.origin = f"{scheme}://127.0.0.1:{port}"
    for sub_id in [f"sub{n}" for n in range(1, args.count + 1)] + args.sub or ["sub1", "sub2", "sub3"]:
        fake.subscribe(sub_id)
    fake.write_subscriptions()
    fake.stats.flush()
    common.write_ready(args.ready, port)
    print(f"webpush_server ready port={port} origin={fake.origin} subscriptions={os.path.abspath(args.subscriptions)}",
          flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    fake.stats.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
