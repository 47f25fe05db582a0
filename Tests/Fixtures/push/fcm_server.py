#!/usr/bin/env python3
"""A faithful fake of Firebase Cloud Messaging HTTP v1 and of Google's OAuth 2 token endpoint, in one process.

Usage:
  fcm_server.py READY_FILE RECORD_FILE [--service-account OUT.json] [--project ID] [--trust SA.json ...]
                [--token-ttl S] [--control FILE] [--stats FILE] [--tls DIR] [--port P]
  fcm_server.py make-service-account OUT.json --token-uri URL [--project ID]

HTTP/1.1 on 127.0.0.1 (HTTPS with --tls DIR: trust DIR/ca.pem).
  POST /token                                  the JWT-bearer grant (RFC 7523) as Google runs it
  POST /v1/projects/{project}/messages:send    FCM HTTP v1 send, with the real error bodies
--service-account writes a service account (fresh RSA key, token_uri = this server's /token) before the server
says it is ready. Device tokens starting with a cue word fail on purpose (see CUES); the control file scripts
failures of either endpoint. README.md beside this file documents it all.
"""
import argparse
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import fcm_message
import push_common as common

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPES = {"https://www.googleapis.com/auth/firebase.messaging", "https://www.googleapis.com/auth/cloud-platform"}
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
# (HTTP status, canonical status, FcmError code, message): the answers of the real service.
ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Number of messages'."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}
# A device token starting with one of these words fails with that error; "once-" before the word fails only the
# first send to that token. UNAVAILABLE comes with Retry-After: 1.
CUES = {"unregistered": "UNREGISTERED", "invalid": "INVALID_ARGUMENT", "quota": "QUOTA_EXCEEDED",
        "unavailable": "UNAVAILABLE", "internal": "INTERNAL", "mismatch": "SENDER_ID_MISMATCH",
        "thirdparty": "THIRD_PARTY_AUTH_ERROR"}
MAX_PAYLOAD = 4096
UNAUTHENTICATED = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                   "other valid authentication credential.")


def make_service_account(path, token_uri, project):
    """Writes a service-account JSON file like the ones the Firebase console hands out; returns it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    email = f"firebase-adminsdk-test@{project}.iam.gserviceaccount.com"
    account = {
        "type": "service_account", "project_id": project, "private_key_id": secrets.token_hex(20),
        "private_key": pem, "client_email": email, "client_id": str(secrets.randbelow(10 ** 20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com"}
    common.write_atomically(path, json.dumps(account, indent=2) + "\n")
    return account


def fcm_error(code, message=None, violation=None):
    status, canonical, default = ERRORS.get(code, (500, "INTERNAL", "Scripted failure."))
    details = [{"@type": FCM_ERROR, "errorCode": code}]
    if violation:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": violation, "description": message or default}]})
    return status, {"error": {"code": status, "message": message or default, "status": canonical,
                              "details": details}}


class Rejection(Exception):
    def __init__(self, status, body, headers=()):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, list(headers)


class FCMFake:
    def __init__(self, args):
        self.args = args
        self.clock = common.Clock()
        self.control = common.Control(args.control, self.clock, extra_keys=("revoke_tokens",))
        self.recorder = common.Recorder(args.record)
        self.stats = common.Stats(args.stats)
        self.accounts = {}   # client_email -> {"key": public key, "kid", "project", "token_uri"}
        self.tokens = {}     # access token -> {"email", "project", "scopes", "expires"}
        self.seen_once = set()
        self.lock = threading.Lock()
        for path in args.trust or []:
            with open(path) as f:
                self.trust(json.load(f))

    def trust(self, account):
        key = serialization.load_pem_private_key(account["private_key"].encode(), password=None).public_key()
        self.accounts[account["client_email"]] = {"key": key, "kid": account.get("private_key_id"),
                                                  "project": account["project_id"],
                                                  "token_uri": account.get("token_uri")}

    # --- POST /token -------------------------------------------------------------------------------------------
    def grant(self, form):
        """The access token answer for a JWT-bearer grant, or a Rejection shaped like Google's."""
        def refuse(error, description):
            return Rejection(400, {"error": error, "error_description": description})
        failure = self.control.take_failure("token")
        if failure:
            raise Rejection(int(failure.get("status", 500)),
                            {"error": failure.get("error", "internal_failure"),
                             "error_description": failure.get("message", "scripted failure")},
                            [("Retry-After", str(failure["retry_after"]))] if "retry_after" in failure else [])
        if form.get("grant_type") != GRANT_TYPE:
            raise refuse("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise refuse("invalid_grant", "Invalid JWT: not a JWT.")
        account = self.accounts.get(unverified.get("iss"))
        if header.get("alg") != "RS256":
            raise refuse("invalid_grant", "Invalid JWT Signature.")
        if account is None:
            raise refuse("invalid_grant", "Invalid grant: account not found")
        if header.get("kid") not in (None, account["kid"]):
            raise refuse("invalid_grant", "Invalid JWT Signature.")
        try:
            claims = jwt.decode(assertion, account["key"], algorithms=["RS256"],
                                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                         "verify_aud": False})
        except jwt.PyJWTError:
            raise refuse("invalid_grant", "Invalid JWT Signature.")
        # Google wants its own token endpoint as the audience; a file's token_uri is that same address.
        if claims.get("aud") not in (GOOGLE_TOKEN_URI, account["token_uri"]):
            raise refuse("invalid_grant", "Invalid JWT: Failed audience check.")
        now = self.clock.now()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600 or exp <= iat \
                or exp < now - 60 or iat > now + 60:
            raise refuse("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                         "reasonable timeframe. Check your iat and exp values in the JWT claim.")
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes & SCOPES:
            raise refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = "ya29.fake-" + secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = {"email": claims["iss"], "project": account["project"], "scopes": sorted(scopes),
                                  "expires": now + self.args.token_ttl}
        return {"access_token": token, "expires_in": self.args.token_ttl, "token_type": "Bearer"}

    # --- POST /v1/projects/{project}/messages:send -------------------------------------------------------------
    def authorize(self, authorization, project):
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Rejection(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                            "message": "Request is missing required authentication credential. "
                                                       "Expected OAuth 2 access token, login cookie or other valid "
                                                       "authentication credential."}},
                            [("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')])
        with self.lock:
            grant = self.tokens.get(token)
        if grant is None or grant["expires"] <= self.clock.now():
            raise Rejection(401, {"error": {"code": 401, "message": UNAUTHENTICATED, "status": "UNAUTHENTICATED"}},
                            [("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/", '
                                                  'error="invalid_token"')])
        if not set(grant["scopes"]) & SCOPES:
            raise Rejection(403, {"error": {"code": 403, "message": "Request had insufficient authentication scopes.",
                                            "status": "PERMISSION_DENIED"}})
        if grant["project"] != project:
            raise Rejection(403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                                            "message": f"Permission 'cloudmessaging.messages.create' denied on "
                                                       f"resource '//cloudresourcemanager.googleapis.com/projects/"
                                                       f"{project}' (or it may not exist)."}})
        return grant

    def send(self, project, authorization, raw):
        """Returns (status, answer, extra headers, message, validate_only) of one send."""
        failure = self.control.take_failure("send")
        if failure:
            status, body = fcm_error(failure.get("error", "UNAVAILABLE"), failure.get("message"))
            if "status" in failure:
                status = body["error"]["code"] = int(failure["status"])
            extra = [("Retry-After", str(failure["retry_after"]))] if "retry_after" in failure else []
            raise Rejection(status, body, extra)
        self.authorize(authorization, project)
        try:
            message, validate_only = fcm_message.check(json.loads(raw))
        except ValueError:
            raise Rejection(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                            "message": "Invalid JSON payload received."}})
        except fcm_message.Invalid as invalid:
            raise Rejection(*fcm_error("INVALID_ARGUMENT", invalid.message, invalid.field))
        size = sum(len(k.encode()) + len(v.encode()) for k, v in message.get("data", {}).items()) \
            + sum(len(str(v).encode()) for v in message.get("notification", {}).values())
        if size > MAX_PAYLOAD:
            raise Rejection(*fcm_error("INVALID_ARGUMENT", "Message is too big", "message"))
        token = message.get("token", "")
        once = token.startswith("once-")
        word = next((w for w in CUES if token[5 if once else 0:].startswith(w)), None)
        if word and (not once or token not in self.seen_once):
            self.seen_once.add(token)
            code = CUES[word]
            status, body = fcm_error(code)
            raise Rejection(status, body, [("Retry-After", "1")] if code == "UNAVAILABLE" else [])
        name = f"projects/{project}/messages/0:{int(self.clock.now() * 1e6)}%{secrets.token_hex(8)}"
        return 200, {"name": name}, [], message, validate_only


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake = None

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake.control.poll()
        for directive in iter(lambda: fake.control.take_extra("revoke_tokens"), None):
            with fake.lock:
                fake.tokens.clear()
        path = self.path.split("?", 1)[0]
        if path == "/token":
            return self.token(raw)
        prefix, suffix = "/v1/projects/", "/messages:send"
        if path.startswith(prefix) and path.endswith(suffix):
            return self.send_message(path[len(prefix):-len(suffix)], raw)
        fake.stats.count(404)
        self.answer(404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}})

    def token(self, raw):
        fake = self.fake
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        try:
            status, body, headers = 200, fake.grant(form), []
        except Rejection as rejection:
            status, body, headers = rejection.status, rejection.body, rejection.headers
        try:
            iss = jwt.decode(form.get("assertion", ""), options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            iss = None
        fake.stats.count(status, token_requests=1, tokens_issued=int(status == 200))
        fake.recorder.write({"kind": "token", "status": status, "error": body.get("error"), "iss": iss,
                             "expires_in": body.get("expires_in"), "time": fake.clock.now()})
        self.answer(status, body, headers)   # recorded first: whoever got the answer finds the record

    def send_message(self, project, raw):
        fake = self.fake
        message, validate_only = None, False
        try:
            status, body, headers, message, validate_only = fake.send(project, self.headers.get("Authorization"),
                                                                      raw)
        except Rejection as rejection:
            status, body, headers = rejection.status, rejection.body, rejection.headers
        if message is None:
            try:
                message = json.loads(raw).get("message")
            except (ValueError, AttributeError):
                message = None
        error = body.get("error", {})
        code = next((d.get("errorCode") for d in error.get("details", []) if d.get("@type") == FCM_ERROR), None)
        fake.stats.count(status, sends=1, accepted=int(status == 200))
        fake.recorder.write({"kind": "send", "status": status, "error": error.get("status"), "error_code": code,
                             "project": project, "token": message.get("token") if isinstance(message, dict) else None,
                             "message": message, "validate_only": validate_only, "name": body.get("name"),
                             "time": fake.clock.now()})
        self.answer(status, body, headers)

    def do_GET(self):
        self.fake.stats.count(405)
        self.answer(405, {"error": {"code": 405, "message": "Method Not Allowed", "status": "UNIMPLEMENTED"}})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main(argv):
    if argv[:1] == ["make-service-account"]:
        parser = argparse.ArgumentParser(prog="fcm_server.py make-service-account")
        parser.add_argument("out")
        parser.add_argument("--token-uri", required=True)
        parser.add_argument("--project", default="herald-test")
        args = parser.parse_args(argv[1:])
        make_service_account(args.out, args.token_uri, args.project)
        return
    parser = argparse.ArgumentParser(description="A fake FCM HTTP v1 endpoint and OAuth 2 token endpoint.")
    parser.add_argument("ready")
    parser.add_argument("record")
    parser.add_argument("--service-account", help="write a service account whose token_uri is this server")
    parser.add_argument("--project", default="herald-test", help="project id of --service-account")
    parser.add_argument("--trust", action="append", help="also accept this service-account file's key")
    parser.add_argument("--token-ttl", type=int, default=3599, help="expires_in of the access tokens (seconds)")
    parser.add_argument("--control", help="a JSON file a test writes to script failures (read, then deleted)")
    parser.add_argument("--stats", help="a JSON file of counters, rewritten after every request")
    parser.add_argument("--tls", metavar="DIR", help="serve HTTPS with a throwaway CA written to DIR")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    common.unblock_signals()
    fake = FCMFake(args)
    Handler.fake = fake
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    scheme = "http"
    if args.tls:
        tls = common.make_tls(args.tls)
        server.socket = common.server_ssl_context(tls, ["http/1.1"]).wrap_socket(server.socket, server_side=True)
        scheme = "https"
    if args.service_account:
        fake.trust(make_service_account(args.service_account, f"{scheme}://127.0.0.1:{port}/token", args.project))
    fake.stats.flush()
    common.write_ready(args.ready, port)
    print(f"fcm_server ready port={port} url={scheme}://127.0.0.1:{port}", flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    fake.stats.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
