"""FCM fake checks: google-auth gets the access token from the service account's token_uri and firebase-admin
sends (its messages, its error mapping, its Retry-After handling); a hand-made JWT-bearer grant (PyJWT + urllib,
as Google documents the flow) covers the refusals and the raw error bodies."""
import datetime
import json
import ssl
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import jwt

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


def post(url, body, headers=None, context=None):
    """(status, JSON answer, headers) of a POST; errors are answers too."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def assertion(account, aud=None, scope=SCOPE, key=None, iss=None, lifetime=3600, kid=None):
    now = int(time.time())
    claims = {"iss": iss or account["client_email"], "scope": scope, "aud": aud or account["token_uri"],
              "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key or account["private_key"], algorithm="RS256",
                      headers={"kid": kid or account["private_key_id"]})


def grant(account, context=None, **options):
    body = urlencode({"grant_type": options.pop("grant_type", GRANT_TYPE),
                      "assertion": assertion(account, **options)}).encode()
    return post(account["token_uri"], body, {"Content-Type": "application/x-www-form-urlencoded"}, context)


def send(url, token, message, validate_only=None):
    body = {"message": message}
    if validate_only is not None:
        body["validate_only"] = validate_only
    return post(url, json.dumps(body).encode(), {"Authorization": f"Bearer {token}",
                                                 "Content-Type": "application/json"})


def error_of(answer):
    error = answer.get("error", {})
    codes = [d.get("errorCode") for d in error.get("details", []) if d.get("@type") == FCM_ERROR]
    return error.get("code"), error.get("status"), codes[0] if codes else None


def reference_clients(checks, fake, account):
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account
    import firebase_admin
    from firebase_admin import credentials, exceptions, messaging

    creds = service_account.Credentials.from_service_account_file(fake.file("sa.json"), scopes=[SCOPE])
    creds.refresh(Request())
    checks.expect(creds.token and creds.expiry > datetime.datetime.utcnow(),
                  "fcm: google-auth gets an access token from the file's token_uri", repr(creds.token))
    app = firebase_admin.initialize_app(credentials.Certificate(fake.file("sa.json")), name="fcm-fake")
    service = messaging._get_messaging_service(app)
    # firebase-admin has no endpoint option: point its send URL at the fake (the only change made to it).
    service._fcm_url = f"http://127.0.0.1:{fake.port}/v1/projects/{account['project_id']}/messages:send"
    message = messaging.Message(
        token="device-1", data={"deep_link": "shop://cart", "herald_key": "k1"},
        notification=messaging.Notification(title="Hi", body="Your cart"),
        android=messaging.AndroidConfig(collapse_key="cart", priority="high", ttl=datetime.timedelta(hours=24)),
        apns=messaging.APNSConfig(headers={"apns-priority": "10", "apns-collapse-id": "cart"},
                                  payload=messaging.APNSPayload(aps=messaging.Aps(badge=1, sound="default"))),
        webpush=messaging.WebpushConfig(headers={"Urgency": "high", "TTL": "86400"}))
    name = messaging.send(message, app=app)
    checks.expect(name.startswith(f"projects/{account['project_id']}/messages/"),
                  "fcm: firebase-admin sends a full message", name)
    sent = [r for r in fake.records() if r["kind"] == "send"][-1]
    checks.equal((sent["token"], sent["message"]["data"], sent["message"]["android"]["ttl"]),
                 ("device-1", {"deep_link": "shop://cart", "herald_key": "k1"}, "86400s"),
                 "fcm: the message is recorded as sent")
    checks.equal(messaging.send(message, dry_run=True, app=app).startswith("projects/"), True,
                 "fcm: validate_only (dry run) is accepted")
    checks.equal([r for r in fake.records() if r["kind"] == "send"][-1]["validate_only"], True,
                 "fcm: validate_only is recorded")
    tokens = fake.stats()["token_requests"]
    checks.equal(tokens, 2, "fcm: each of the two clients fetched one token and reused it")
    # Last: a 401 (THIRD_PARTY_AUTH_ERROR) makes google-auth fetch a new token and try again, twice.
    mapping = [("unregistered-1", messaging.UnregisteredError), ("quota-1", messaging.QuotaExceededError),
               ("invalid-1", exceptions.InvalidArgumentError), ("mismatch-1", messaging.SenderIdMismatchError),
               ("thirdparty-1", messaging.ThirdPartyAuthError)]
    for token, error_type in mapping:
        try:
            messaging.send(messaging.Message(token=token, data={"a": "b"}), app=app)
            got = None
        except exceptions.FirebaseError as error:
            got = type(error)
        checks.equal(got, error_type, f"fcm: firebase-admin maps the {token} cue to {error_type.__name__}")
    started = time.time()
    name = messaging.send(messaging.Message(token="once-unavailable-1", data={"a": "b"}), app=app)
    checks.expect(name and time.time() - started >= 0.9,
                  "fcm: firebase-admin retries a 503 after its Retry-After: 1 and then succeeds",
                  f"{time.time() - started:.2f} s")
    firebase_admin.delete_app(app)


def grants(checks, fake, account, other_key):
    status, answer, _ = grant(account)
    checks.expect(status == 200 and answer.get("token_type") == "Bearer" and answer.get("expires_in") == 3599,
                  "fcm: the JWT-bearer grant answers access_token, expires_in, token_type", repr(answer))
    refusals = [
        ("a foreign key", dict(key=other_key), "invalid_grant"),
        ("another key id", dict(kid="0" * 40), "invalid_grant"),
        ("an unknown account", dict(iss="nobody@elsewhere.iam.gserviceaccount.com"), "invalid_grant"),
        ("the wrong audience", dict(aud="https://example.com/token"), "invalid_grant"),
        ("a two-hour lifetime", dict(lifetime=7200), "invalid_grant"),
        ("no FCM scope", dict(scope="https://www.googleapis.com/auth/userinfo.email"), "invalid_scope"),
        ("another grant type", dict(grant_type="client_credentials"), "unsupported_grant_type"),
    ]
    for what, options, error in refusals:
        status, answer, _ = grant(account, **options)
        checks.equal((status, answer.get("error")), (400, error), f"fcm: a grant with {what} is refused")
    status, _, _ = grant(account, aud="https://oauth2.googleapis.com/token")
    checks.equal(status, 200, "fcm: Google's own token endpoint is an accepted audience")
    fake.control({"fail": 1, "target": "token", "status": 503, "error": "temporarily_unavailable"})
    checks.equal([grant(account)[0], grant(account)[0]], [503, 200], "fcm: the control file fails the token endpoint")


def sends(checks, fake, account):
    url = f"http://127.0.0.1:{fake.port}/v1/projects/{account['project_id']}/messages:send"
    token = grant(account)[1]["access_token"]
    ok = {"token": "device-2", "notification": {"title": "Hi", "body": "there"}, "data": {"k": "v"},
          "android": {"collapse_key": "cart", "priority": "HIGH", "ttl": "3600s"}}
    status, answer, _ = send(url, token, ok)
    checks.expect(status == 200 and answer["name"].startswith("projects/"), "fcm: a raw send succeeds", repr(answer))
    cues = [("unregistered-2", 404, "NOT_FOUND", "UNREGISTERED"), ("invalid-2", 400, "INVALID_ARGUMENT",
                                                                   "INVALID_ARGUMENT"),
            ("quota-2", 429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), ("unavailable-2", 503, "UNAVAILABLE",
                                                                        "UNAVAILABLE"),
            ("internal-2", 500, "INTERNAL", "INTERNAL"), ("mismatch-2", 403, "PERMISSION_DENIED",
                                                          "SENDER_ID_MISMATCH")]
    for device, code, canonical, fcm_code in cues:
        status, answer, headers = send(url, token, dict(ok, token=device))
        checks.equal((status,) + error_of(answer), (code, code, canonical, fcm_code), f"fcm: cue {device}")
    _, _, headers = send(url, token, dict(ok, token="unavailable-3"))
    checks.equal(headers.get("Retry-After"), "1", "fcm: UNAVAILABLE carries Retry-After")
    shapes = [
        ("a number as a data value", dict(ok, data={"badge": 1})),
        ("an unknown field", dict(ok, notifcation={"title": "x"})),
        ("a TTL without its unit", dict(ok, android={"ttl": "3600"})),
        ("an unknown priority", dict(ok, android={"priority": "urgent"})),
        ("a reserved data key", dict(ok, data={"from": "x"})),
        ("a token and a topic", dict(ok, topic="news")),
        ("no recipient", {"data": {"k": "v"}}),
        ("more than 4 KB of data", dict(ok, data={"big": "x" * 4100})),
        ("a number as an APNs header", dict(ok, apns={"headers": {"apns-priority": 10}})),
    ]
    for what, message in shapes:
        status, answer, _ = send(url, token, message)
        checks.equal((status, answer["error"]["status"]), (400, "INVALID_ARGUMENT"), f"fcm: {what} is refused")
    checks.equal(send(url, token, dict(ok, android={"collapseKey": "c"}))[0], 200,
                 "fcm: camelCase field names are taken too")
    other = url.replace(account["project_id"], "another-project")
    checks.equal(send(other, token, ok)[0], 403, "fcm: another project's send is refused")
    status, answer, headers = send(url, "ya29.forged", ok)
    checks.equal((status, answer["error"]["status"], "WWW-Authenticate" in headers), (401, "UNAUTHENTICATED", True),
                 "fcm: an unknown access token is 401 UNAUTHENTICATED")
    fake.control({"advance": 3600})
    checks.equal(send(url, token, ok)[0], 401, "fcm: an access token past expires_in is refused")
    fake.control({"offset": 0})
    checks.equal(send(url, token, ok)[0], 200, "fcm: the clock offset is reset")
    fake.control({"revoke_tokens": True})
    checks.equal(send(url, token, ok)[0], 401, "fcm: revoke_tokens forgets every issued token")
    token = grant(account)[1]["access_token"]
    fake.control({"fail": 2, "error": "UNAVAILABLE", "retry_after": 5})
    results = [send(url, token, ok) for _ in range(3)]
    checks.equal([r[0] for r in results], [503, 503, 200], "fcm: the control file fails the next N sends")
    checks.equal(results[0][2].get("Retry-After"), "5", "fcm: a scripted failure carries its Retry-After")


def tls(checks, start, first_account_path):
    fake = start("fcm-tls", "fcm_server.py", ["--service-account", "{dir}/sa.json", "--tls", "{dir}/tls",
                                               "--trust", first_account_path])
    try:
        with open(fake.file("sa.json")) as f:
            account = json.load(f)
        context = ssl.create_default_context(cafile=fake.file("tls/ca.pem"))
        status, answer, _ = grant(account, context=context)
        checks.expect(status == 200 and account["token_uri"].startswith("https://"),
                      "fcm --tls: the token endpoint answers over HTTPS", repr(answer))
        with open(first_account_path) as f:
            trusted = dict(json.load(f), token_uri=account["token_uri"])
        status, answer, _ = grant(trusted, context=context, aud="https://oauth2.googleapis.com/token")
        checks.equal(status, 200, "fcm --trust: another service-account file's key is accepted")
    finally:
        fake.stop()


def run(checks, start, root):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    fake = start("fcm", "fcm_server.py", ["--service-account", "{dir}/sa.json", "--project", "shop-test"])
    try:
        with open(fake.file("sa.json")) as f:
            account = json.load(f)
        checks.equal(account["token_uri"], f"http://127.0.0.1:{fake.port}/token",
                     "fcm: --service-account writes a file whose token_uri is the fake")
        reference_clients(checks, fake, account)
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        grants(checks, fake, account, other_key)
        sends(checks, fake, account)
        records = fake.records()
        checks.equal(sum(r["kind"] == "token" for r in records), fake.stats()["token_requests"],
                     "fcm: every token request is recorded and counted")
    finally:
        fake.stop()
    tls(checks, start, fake.file("sa.json"))
