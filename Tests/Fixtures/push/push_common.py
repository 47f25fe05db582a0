"""Shared plumbing of the push-provider fakes (apns_server.py, fcm_server.py, webpush_server.py).

Everything here is what the three fakes do the same way, so a Swift test drives them alike:
- the READY file: the port as decimal text, written atomically once the socket listens;
- the RECORD file: one JSON object per line, appended and flushed per request;
- the STATS file: one JSON object, rewritten atomically (after every request, or once a second with --fast);
- the CONTROL file: a JSON object a test writes (atomically: write a temp file, rename) to script the next
  requests; the fake reads and deletes it at the start of the next request (see README.md);
- the clock: real time plus an offset the control file can move, so a test can age tokens without sleeping;
- TLS: a throwaway CA and a leaf certificate for localhost/127.0.0.1, made at start-up.
"""
import base64
import datetime
import ipaddress
import json
import os
import signal
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def unblock_signals():
    """A test runner may spawn us with SIGTERM blocked (inherited signal mask); we must stop on it."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    if isinstance(text, str):
        text = text.encode()
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


def write_atomically(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def write_ready(path, port):
    write_atomically(path, str(port))


class Clock:
    """Real time plus an offset (seconds) that the control file sets or moves."""

    def __init__(self):
        self.offset = 0.0

    def now(self):
        return time.time() + self.offset


class Control:
    """The scripted behaviour a test asks for through the control file.

    Keys understood by every fake:
      "advance": S      move the fake's clock S seconds (may be negative)
      "offset": S       set the clock offset to S seconds
      "fail": N + the fake's error fields: answer the next N matching requests with that error
      "clear": true     forget every pending failure
    A fake may understand more keys (its README section says which). A list of such objects is applied in order.
    """

    def __init__(self, path, clock, extra_keys=()):
        self.path = path
        self.clock = clock
        self.pending = []   # [{"fail": remaining count, ...error fields}]
        self.lock = threading.Lock()
        self.extra_keys = extra_keys
        self.extra = []     # one-shot directives a fake handles itself (goaway, revoke_tokens, ...)

    def poll(self):
        """Applies the control file if a test wrote one; cheap (one stat) when there is none."""
        if not self.path or not os.path.exists(self.path):
            return
        with self.lock:
            try:
                with open(self.path) as f:
                    text = f.read()
                os.unlink(self.path)
            except FileNotFoundError:
                return
            try:
                directives = json.loads(text)
            except ValueError as error:
                print(f"control file {self.path}: not JSON ({error}); ignored", flush=True)
                return
            for d in directives if isinstance(directives, list) else [directives]:
                self.apply(d)

    def apply(self, d):
        if "advance" in d:
            self.clock.offset += float(d["advance"])
        if "offset" in d:
            self.clock.offset = float(d["offset"])
        if d.get("clear"):
            self.pending.clear()
        if int(d.get("fail", 0)) > 0:
            self.pending.append(dict(d))
        self.extra += [d for key in self.extra_keys if key in d]

    def take_failure(self, target="send"):
        """The scripted failure for this request, if any (each one counts down its "fail")."""
        if not self.pending:
            return None
        with self.lock:
            for entry in self.pending:
                if entry.get("target", "send") == target and entry["fail"] > 0:
                    entry["fail"] -= 1
                    if entry["fail"] == 0:
                        self.pending.remove(entry)
                    return entry
        return None

    def take_extra(self, key):
        """Consumes the first directive carrying `key` (for fake-specific one-shot actions)."""
        if not self.extra:
            return None
        with self.lock:
            for d in self.extra:
                if key in d:
                    self.extra.remove(d)
                    return d
        return None


class Recorder:
    """Appends JSON lines to the record file (nothing at all when disabled, for --fast)."""

    def __init__(self, path, enabled=True):
        self.lock = threading.Lock()
        self.file = open(path, "a", buffering=1) if path and enabled else None

    def write(self, entry):
        if self.file is None:
            return
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.lock:
            self.file.write(line)
            self.file.flush()


class Stats:
    """Counters a test or a benchmark reads from the stats file."""

    def __init__(self, path, every_request=True):
        self.path = path
        self.every_request = every_request
        self.lock = threading.Lock()
        self.values = {"requests": 0, "by_status": {}}
        self.sets = {}

    def count(self, status, **adds):
        with self.lock:
            self.values["requests"] += 1
            key = str(status)
            self.values["by_status"][key] = self.values["by_status"].get(key, 0) + 1
            for name, amount in adds.items():
                self.values[name] = self.values.get(name, 0) + amount
        if self.every_request:
            self.flush()

    def bump(self, name, amount=1):
        with self.lock:
            self.values[name] = self.values.get(name, 0) + amount

    def maximum(self, name, value):
        with self.lock:
            if value > self.values.get(name, 0):
                self.values[name] = value

    def add_to_set(self, name, value):
        with self.lock:
            self.sets.setdefault(name, set()).add(value)

    def snapshot(self):
        with self.lock:
            out = json.loads(json.dumps(self.values))
            for name, values in self.sets.items():
                out[name] = sorted(values, key=str)
            return out

    def flush(self):
        if self.path:
            write_atomically(self.path, json.dumps(self.snapshot(), indent=1) + "\n")

    def flush_every_second(self):
        def loop():
            while True:
                time.sleep(1)
                self.flush()
        threading.Thread(target=loop, daemon=True).start()


def make_tls(directory):
    """Writes ca.pem (trust this one: CAINFO / cafile), cert.pem (leaf + CA) and key.pem into `directory`."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Herald push fakes test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    # The provider host names too, so a client that pins the real name (curl --connect-to) still verifies.
    names = ["localhost", "api.push.apple.com", "api.sandbox.push.apple.com", "api.development.push.apple.com",
             "fcm.googleapis.com", "oauth2.googleapis.com"]
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]
                                                       + [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                          x509.IPAddress(ipaddress.ip_address("::1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = {name: os.path.join(directory, name + ".pem") for name in ("ca", "cert", "key")}
    with open(paths["ca"], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths["cert"], "wb") as f:
        f.write(leaf.public_bytes(pem) + ca.public_bytes(pem))
    with open(paths["key"], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def server_ssl_context(paths, alpn):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(paths["cert"], paths["key"])
    ctx.set_alpn_protocols(alpn)
    return ctx


def load_public_key(path):
    """A PEM public key, or the public half of a PEM private key (an APNs .p8, a VAPID key, ...)."""
    with open(path, "rb") as f:
        data = f.read()
    if b"PRIVATE KEY" in data:
        return serialization.load_pem_private_key(data, password=None).public_key()
    return serialization.load_pem_public_key(data)


def write_ec_private_key(path):
    """A fresh P-256 private key as PKCS#8 PEM: the format of an APNs .p8 key and of a VAPID key file."""
    key = ec.generate_private_key(ec.SECP256R1())
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return key
