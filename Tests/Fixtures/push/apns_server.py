#!/usr/bin/env python3
"""A faithful fake of the Apple Push Notification service (token-based HTTP/2 provider API).

Usage:
  apns_server.py READY_FILE RECORD_FILE --key-file KEY --team-id TEAM --key-id KID --topic TOPIC [--topic ...]
                 --cert-dir DIR [--control FILE] [--stats FILE] [--fast] [--max-streams N] [--initial-streams N]
                 [--development] [--port P]
  apns_server.py make-key OUT.p8          writes a fresh ES256 (P-256) key in the .p8 (PKCS#8 PEM) format

HTTP/2 over TLS on 127.0.0.1 (a throwaway CA is made in DIR: trust DIR/ca.pem). POST /3/device/{token} is
checked as APNs checks it (provider JWT, apns-* headers, payload size) and answered with APNs's status codes and
{"reason": ...} bodies. Device tokens whose first four hex digits are a cue fail on purpose (see CUES below);
the control file scripts server-wide failures and GOAWAY. README.md beside this file documents it all.
"""
import argparse
import asyncio
import json
import re
import sys
import uuid

import jwt
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset)
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

import push_common as common

PUSH_TYPES = {"alert", "background", "location", "voip", "complication", "fileprovider", "mdm",
              "liveactivity", "pushtotalk", "widgets", "controls"}
# The device token's first four characters choose a failure; "1" in place of the leading "0" fails only the
# first request for that token (then it behaves), so a retry can be seen to succeed.
CUES = {
    "dead": (410, "Unregistered"),
    "0410": (410, "Unregistered"),
    "e410": (410, "ExpiredToken"),
    "0400": (400, "BadDeviceToken"),
    "0429": (429, "TooManyRequests"),
    "0500": (500, "InternalServerError"),
    "0503": (503, "ServiceUnavailable"),
}
HEX = re.compile(r"^[0-9a-fA-F]+$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_PAYLOAD = 4096
MAX_VOIP_PAYLOAD = 5120
TOKEN_MAX_AGE = 3600          # a provider token older than an hour is refused (ExpiredProviderToken)
TOKEN_MIN_RENEWAL = 20 * 60   # a connection's token may change at most every 20 minutes


def speed_up_hpack():
    """hpack decodes Huffman strings byte by byte in Python; a client resends the same JWT (never indexed, being
    a credential) on every request, so remembering decoded strings removes most of the per-request cost."""
    import functools
    import hpack.hpack
    hpack.hpack.decode_huffman = functools.lru_cache(maxsize=4096)(hpack.hpack.decode_huffman)
    import hpack.table

    class Quiet:
        def debug(self, *args, **kwargs):
            pass
    # Its per-header debug calls are filtered out anyway; skip even asking the logging module.
    hpack.hpack.log = hpack.table.log = Quiet()


class Rejection(Exception):
    def __init__(self, status, reason, retry_after=None, timestamp=None):
        super().__init__(reason)
        self.status, self.reason, self.retry_after, self.timestamp = status, reason, retry_after, timestamp


class APNsFake:
    def __init__(self, args):
        self.args = args
        self.public_key = common.load_public_key(args.key_file)
        self.clock = common.Clock()
        self.control = common.Control(args.control, self.clock, extra_keys=("goaway",))
        self.recorder = common.Recorder(args.record, enabled=not args.fast)
        self.stats = common.Stats(args.stats, every_request=not args.fast)
        self.jwt_cache = {}      # token string -> claims (only with --fast)
        self.seen_once = set()   # tokens whose "fail once" cue has fired
        self.connections = 0

    def verify_jwt(self, authorization):
        if not authorization:
            raise Rejection(403, "MissingProviderToken")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Rejection(403, "MissingProviderToken")
        claims = self.jwt_cache.get(token) if self.args.fast else None
        if claims is None:
            try:
                header = jwt.get_unverified_header(token)
                claims = jwt.decode(token, self.public_key, algorithms=["ES256"],
                                    options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                             "verify_aud": False, "require": ["iss", "iat"]})
            except jwt.PyJWTError:
                raise Rejection(403, "InvalidProviderToken")
            if header.get("kid") != self.args.key_id or claims.get("iss") != self.args.team_id \
                    or not isinstance(claims.get("iat"), int):
                raise Rejection(403, "InvalidProviderToken")
            claims = {"iat": claims["iat"], "iss": claims["iss"], "kid": header["kid"]}
            self.stats.bump("jwt_verifications")
            if self.args.fast and len(self.jwt_cache) < 1000:
                self.jwt_cache[token] = claims
        if claims["iat"] < self.clock.now() - TOKEN_MAX_AGE:
            raise Rejection(403, "ExpiredProviderToken")
        return claims

    def check_headers(self, headers, names):
        for name in ("apns-topic", "apns-push-type", "apns-priority", "apns-expiration", "apns-collapse-id",
                     "apns-id", "authorization"):
            if names.count(name) > 1:
                raise Rejection(400, "DuplicateHeaders")
        apns_id = headers.get("apns-id")
        if apns_id is not None and not UUID.match(apns_id):
            raise Rejection(400, "BadMessageId")
        push_type = headers.get("apns-push-type")
        if push_type is not None and push_type not in PUSH_TYPES:
            raise Rejection(400, "InvalidPushType")
        topic = headers.get("apns-topic")
        if not topic:
            raise Rejection(400, "MissingTopic")
        exact = push_type in (None, "alert", "background")
        if not any(topic == t or (not exact and topic.startswith(t + ".")) for t in self.args.topic):
            raise Rejection(400, "DeviceTokenNotForTopic")
        if headers.get("apns-priority", "10") not in ("10", "5", "1"):
            raise Rejection(400, "BadPriority")
        expiration = headers.get("apns-expiration", "0")
        if not expiration.isdigit():
            raise Rejection(400, "BadExpirationDate")
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            raise Rejection(400, "BadCollapseId")

    def check_payload(self, body, push_type):
        if not body:
            raise Rejection(400, "PayloadEmpty")
        if len(body) > (MAX_VOIP_PAYLOAD if push_type == "voip" else MAX_PAYLOAD):
            raise Rejection(413, "PayloadTooLarge")
        if self.args.fast:
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            # APNs documents no reason for a body that is not a JSON object; the fake names its own.
            raise Rejection(400, "BadPayload")
        return payload

    def check_token_cue(self, token):
        cue = CUES.get(token[:4])
        once = token[:1] == "1" and CUES.get("0" + token[1:4])
        if cue:
            status, reason = cue
            raise Rejection(status, reason, timestamp=int(self.clock.now() * 1000) if status == 410 else None)
        if once and token not in self.seen_once:
            self.seen_once.add(token)
            raise Rejection(*once)

    def handle(self, connection, stream_id, header_list, body):
        """Checks one request as APNs would; returns (status, apns-id, reason or None, extra headers, claims)."""
        headers = dict(header_list)
        names = [name for name, _ in header_list]
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
        claims = None
        payload = None
        try:
            self.control.poll()
            failure = self.control.take_failure()
            if failure:
                raise Rejection(int(failure.get("status", 503)), failure.get("reason", "ServiceUnavailable"),
                                retry_after=failure.get("retry_after"))
            if headers.get(":method") != "POST":
                raise Rejection(405, "MethodNotAllowed")
            path = headers.get(":path", "")
            if not path.startswith("/3/device/"):
                raise Rejection(404, "BadPath")
            token = path[len("/3/device/"):]
            claims = self.verify_jwt(headers.get("authorization"))
            connection.token_changed(claims["iat"])
            if not token:
                raise Rejection(400, "MissingDeviceToken")
            self.check_headers(headers, names)
            payload = self.check_payload(body, headers.get("apns-push-type"))
            if not HEX.match(token):
                raise Rejection(400, "BadDeviceToken")
            self.check_token_cue(token)
            result = Rejection(200, None)
        except Rejection as rejection:
            result = rejection
        extra = []
        if result.retry_after is not None:
            extra.append(("retry-after", str(result.retry_after)))
        if self.args.development:
            extra.append(("apns-unique-id", str(uuid.uuid4())))
        if claims:
            self.stats.add_to_set("jwt_iats", claims["iat"])
        self.stats.count(result.status)
        if self.recorder.file:
            self.recorder.write({
                "conn": connection.number, "stream": stream_id, "batch": connection.batch_size,
                "status": result.status, "reason": result.reason, "timestamp": result.timestamp,
                "token": headers.get(":path", "")[len("/3/device/"):], "apns_id": apns_id,
                "headers": {k: v for k, v in header_list if k.startswith("apns-")}, "payload": payload,
                "payload_bytes": len(body), "jwt": claims, "time": self.clock.now()})
        return result, apns_id, extra


class Connection(asyncio.Protocol):
    def __init__(self, fake):
        self.fake = fake
        args = fake.args
        self.conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8",
                                                 validate_inbound_headers=not args.fast,
                                                 normalize_inbound_headers=not args.fast))
        self.streams = {}
        self.transport = None
        self.iat = None
        self.ramped = args.initial_streams is None
        self.batch_size = 0
        self.last_stream = 0
        self.closing = False

    def connection_made(self, transport):
        self.transport = transport
        self.fake.connections += 1
        self.number = self.fake.connections
        self.fake.stats.bump("connections")
        streams = self.fake.args.initial_streams or self.fake.args.max_streams
        self.conn.initiate_connection()
        self.conn.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: streams})
        transport.write(self.conn.data_to_send())

    def token_changed(self, iat):
        # Renewing a token that has expired is always allowed; renewing a live one sooner than 20 minutes is not.
        if self.iat is not None and iat != self.iat and abs(iat - self.iat) < TOKEN_MIN_RENEWAL \
                and self.iat >= self.fake.clock.now() - TOKEN_MAX_AGE:
            raise Rejection(429, "TooManyProviderTokenUpdates")
        self.iat = iat
        if not self.ramped:
            # Lift the stream limit once the connection has shown a valid provider token (see README.md).
            self.ramped = True
            self.conn.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: self.fake.args.max_streams})

    def data_received(self, data):
        if self.closing:
            return
        try:
            events = self.conn.receive_data(data)
        except ProtocolError:
            self.transport.write(self.conn.data_to_send())
            self.transport.close()
            return
        done = []
        for event in events:
            if isinstance(event, RequestReceived):
                self.streams[event.stream_id] = (event.headers, bytearray())
                if event.stream_ended:
                    done.append(event.stream_id)
            elif isinstance(event, DataReceived):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id][1].extend(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                done.append(event.stream_id)
            elif isinstance(event, StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, ConnectionTerminated):
                self.transport.write(self.conn.data_to_send())
                self.transport.close()
                return
        # Requests whose last frame arrived in the same read are answered together: their count shows multiplexing.
        self.batch_size = len(done)
        self.fake.stats.maximum("max_batch", self.batch_size)
        for stream_id in done:
            if stream_id in self.streams and not self.closing:
                self.answer(stream_id, *self.streams.pop(stream_id))
        self.transport.write(self.conn.data_to_send())
        if self.closing:
            self.transport.close()

    def answer(self, stream_id, header_list, body):
        self.fake.control.poll()
        goaway = self.fake.control.take_extra("goaway")
        if goaway:
            # Refuse this request and every later one: a client must resend them on a new connection.
            reason = goaway["goaway"] if isinstance(goaway["goaway"], str) else "Shutdown"
            self.conn.close_connection(error_code=ErrorCodes.NO_ERROR, last_stream_id=self.last_stream,
                                       additional_data=json.dumps({"reason": reason}).encode())
            self.fake.stats.bump("goaways")
            self.closing = True
            return
        self.last_stream = stream_id
        result, apns_id, extra = self.fake.handle(self, stream_id, header_list, bytes(body))
        headers = [(":status", str(result.status)), ("apns-id", apns_id)] + extra
        if result.status == 200:
            self.conn.send_headers(stream_id, headers, end_stream=True)
            return
        reason = {"reason": result.reason}
        if result.timestamp is not None:
            reason["timestamp"] = result.timestamp
        data = json.dumps(reason).encode()
        self.conn.send_headers(stream_id, headers + [("content-type", "application/json"),
                                                     ("content-length", str(len(data)))])
        self.conn.send_data(stream_id, data, end_stream=True)


async def serve(args):
    tls = common.make_tls(args.cert_dir)
    fake = APNsFake(args)
    context = common.server_ssl_context(tls, ["h2"])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(fake), "127.0.0.1", args.port, ssl=context,
                                      backlog=1024)
    port = server.sockets[0].getsockname()[1]
    fake.stats.flush()
    if args.fast:
        fake.stats.flush_every_second()
    stop = asyncio.Event()
    import signal
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, fake.stats.flush)
    common.write_ready(args.ready, port)
    print(f"apns_server ready port={port} ca={tls['ca']}{' fast' if args.fast else ''}", flush=True)
    await stop.wait()
    fake.stats.flush()


def main(argv):
    if argv[:1] == ["make-key"]:
        if len(argv) != 2:
            sys.exit("usage: apns_server.py make-key OUT.p8")
        common.write_ec_private_key(argv[1])
        return
    parser = argparse.ArgumentParser(description="A fake APNs provider API (HTTP/2 over TLS).")
    parser.add_argument("ready")
    parser.add_argument("record")
    parser.add_argument("--key-file", required=True, help="the ES256 key (.p8 private key or PEM public key)")
    parser.add_argument("--team-id", required=True)
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--topic", action="append", required=True, help="an app bundle id the key may push to")
    parser.add_argument("--cert-dir", required=True, help="where ca.pem, cert.pem and key.pem are written")
    parser.add_argument("--control", help="a JSON file a test writes to script failures (read, then deleted)")
    parser.add_argument("--stats", help="a JSON file of counters, rewritten as requests come")
    parser.add_argument("--fast", action="store_true", help="benchmark mode: no record, JWT checked once per string")
    parser.add_argument("--max-streams", type=int, default=1000, help="SETTINGS_MAX_CONCURRENT_STREAMS")
    parser.add_argument("--initial-streams", type=int, help="the stream limit until a valid JWT was seen")
    parser.add_argument("--development", action="store_true", help="answer with apns-unique-id, as the sandbox does")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    common.unblock_signals()
    speed_up_hpack()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main(sys.argv[1:])
