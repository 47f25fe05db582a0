#!/usr/bin/env python3
"""A loopback HTTP receiver for Herald's integration tests.

POST /hooks/*  verifies Standard Webhooks signatures with the reference `standardwebhooks`
               library, once per secret, and records each delivery as a JSON line.
/fault/...     scripted faults no real server produces on cue:
               /fault/status/N[?retry_after=V]  answer N (with Retry-After: V)
               /fault/redirect                  302 to /hooks/redirected
               /fault/reset                     send half a response, then close the socket
               /fault/stall                     read the request, then say nothing for 60 s
anything else  recorded (method, path, query, headers, body) and answered 200 "ok".

Usage: webhook_receiver.py READY_FILE RECORD_FILE [SECRET ...]
The server binds 127.0.0.1 on a free port and writes the port to READY_FILE when listening.
"""
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# A test runner may spawn us with SIGTERM blocked (inherited signal mask); we must stop on it.
import signal as _signal
_signal.pthread_sigmask(_signal.SIG_UNBLOCK, [_signal.SIGTERM, _signal.SIGINT])

READY, RECORD, SECRETS = sys.argv[1], sys.argv[2], sys.argv[3:]
lock = threading.Lock()


def record(entry):
    with lock, open(RECORD, "a") as f:
        f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body leave in two writes; without TCP_NODELAY the body waits for the client's delayed
    # ACK (~40 ms a response on a kept-alive connection).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        url = urlsplit(self.path)
        body = self.body()
        if url.path.startswith("/hooks/"):
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = []
            for secret in SECRETS:
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(secret[:12])
                except WebhookVerificationError:
                    pass
            record({"path": url.path, "id": headers.get("webhook-id"), "verified": len(verified),
                    "signatures": len(headers.get("webhook-signature", "").split()),
                    "body": body.decode("utf-8", "replace")})
            return self.answer(204 if len(verified) == len(SECRETS) and SECRETS else 400)
        if url.path.startswith("/fault/status/"):
            status = int(url.path.rsplit("/", 1)[1])
            extra = [("Retry-After", v) for v in parse_qs(url.query).get("retry_after", [])]
            return self.answer(status, b"scripted", extra)
        if url.path == "/fault/redirect":
            return self.answer(302, b"", [("Location", "/hooks/redirected")])
        if url.path == "/fault/reset":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf")
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            self.close_connection = True
            return
        if url.path == "/fault/stall":
            time.sleep(60)
            return
        record({"method": self.command, "path": url.path, "query": url.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace")})
        self.answer(200, b"ok")

    do_GET = do_POST = do_PUT = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the daemon opens many connections at once


server = Server(("127.0.0.1", 0), Handler)
with open(READY + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(READY + ".tmp", READY)
server.serve_forever()
