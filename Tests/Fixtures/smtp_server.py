#!/usr/bin/env python3
"""A loopback SMTP server (aiosmtpd) with STARTTLS and AUTH for Herald's integration tests.

Usage: smtp_server.py READY_FILE MAIL_DIR CERT KEY USER PASSWORD_FILE [--implicit-tls] [--pipelining]
Requires STARTTLS before AUTH (unless --implicit-tls, i.e. SMTPS) and AUTH before MAIL.
--pipelining offers PIPELINING (RFC 2920) in the EHLO reply.
Each accepted message is stored byte-exact as MAIL_DIR/N.eml with MAIL_DIR/N.json holding
the envelope. For every MAIL command a line goes to MAIL_DIR.mail.log: "pipelined" when the
client had already sent the RCPT that follows it, "alone" otherwise.
The chosen port is written to READY_FILE once listening.
"""
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller

# A test runner may spawn us with SIGTERM blocked (inherited signal mask); we must stop on it.
import signal as _signal
_signal.pthread_sigmask(_signal.SIG_UNBLOCK, [_signal.SIGTERM, _signal.SIGINT])
from aiosmtpd.smtp import AuthResult

ready, mail_dir, cert, key, user, password_file = sys.argv[1:7]
implicit = "--implicit-tls" in sys.argv
pipelining = "--pipelining" in sys.argv
mail_log = mail_dir.rstrip("/") + ".mail.log"
password = open(password_file).read().strip()
counter = 0
lock = threading.Lock()


class Store:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # What the client sent after MAIL and we have not read yet: its RCPT, when it pipelines.
        # aiosmtpd has no public way to peek at unread input; install-deps.sh pins the version this was written for.
        reader = getattr(server, "_reader", None)
        if reader is None or not hasattr(reader, "_buffer"):
            raise RuntimeError("smtp_server.py: this aiosmtpd has no _reader._buffer; install aiosmtpd==1.4.6")
        pending = bytes(reader._buffer).upper()
        with lock:
            with open(mail_log, "a") as f:
                f.write(("pipelined" if b"RCPT TO:" in pending else "alone") + "\n")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject-"):
            return "550 5.1.1 no such user"
        if address.startswith("later-"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global counter
        with lock:
            counter += 1
            n = counter
        base = os.path.join(mail_dir, str(n))
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 stored"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
# The controller probes its own port once started, so it needs a concrete one: ask the kernel.
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
free_port = probe.getsockname()[1]
probe.close()
# With implicit TLS aiosmtpd does not count the connection as TLS for AUTH; it is, so allow AUTH.
options = dict(hostname="127.0.0.1", port=free_port, authenticator=authenticate, auth_required=True,
               auth_require_tls=not implicit)
if implicit:
    controller = Controller(Store(), ssl_context=context, **options)
else:
    controller = Controller(Store(), tls_context=context, require_starttls=True, **options)
controller.start()
port = free_port
with open(ready + ".tmp", "w") as f:
    f.write(str(port))
os.rename(ready + ".tmp", ready)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait()
controller.stop()
