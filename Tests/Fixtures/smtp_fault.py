#!/usr/bin/env python3
"""A scripted plain-SMTP server that misbehaves on cue, for Herald's integration tests.

Usage: smtp_fault.py READY_FILE DIR MODE [--pipelining]
MODE:
  deliver               behaves: stores every message and answers 250
  close-after-reply     stores the message, answers the end of data with 250 and closes at once
  close-on-first-mail   the first connection closes when it receives MAIL; later ones deliver
  close-on-every-mail   every connection closes when it receives MAIL
  close-on-second-mail  the first connection delivers one message and closes when it receives the next MAIL
  garbage-on-mail       answers MAIL with a line that is not an SMTP reply
  silent                accepts connections and never greets
  busy-after-first      the first connection delivers; every later one is greeted with 421 and closed
  close-after-data      closes, without replying, once it received the end-of-data "." line
  close-after-first-data  the first connection does that; later ones deliver
  stall-after-data      never answers the end of data (keeps the connection open until the client closes it)
  hold-first-mail       the first connection leaves its MAIL unanswered until the server gets SIGUSR1, then closes;
                        later ones deliver
  auth-535              offers AUTH PLAIN and refuses every login with 535 5.7.8 (logged as "auth N")
  auth-530-on-mail      offers no AUTH and answers every MAIL with 530 5.7.0 Authentication required
--pipelining offers PIPELINING in the EHLO reply.
A delivered message is stored as DIR/N.eml. Each connection, MAIL and end of data is logged as a line
in DIR/events.log ("connect N", "mail N", "end N", N the connection's number). The port is written to
READY_FILE once listening.
"""
import os
import signal
import socket
import sys
import threading

# A test runner may spawn us with SIGTERM blocked (inherited signal mask); we must stop on it.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])
released = threading.Event()
signal.signal(signal.SIGUSR1, lambda *a: released.set())

ready, directory, mode = sys.argv[1:4]
pipelining = "--pipelining" in sys.argv[4:]
if mode not in ("deliver", "busy-after-first", "close-after-first-data", "close-after-reply", "close-on-first-mail", "close-on-second-mail", "garbage-on-mail", "silent", "close-on-every-mail", "close-after-data", "stall-after-data", "hold-first-mail", "auth-535", "auth-530-on-mail"):
    sys.exit(f"unknown mode {mode}")
lock = threading.Lock()
connections = 0
stored = 0


def log(event):
    with lock:
        with open(os.path.join(directory, "events.log"), "a") as f:
            f.write(event + "\n")


def serve(conn, number):
    global stored
    reader = conn.makefile("rb")
    mails = 0
    try:
        if mode == "silent":
            while reader.readline():
                pass
            return
        if mode == "busy-after-first" and number > 1:
            conn.sendall(b"421 4.7.0 too busy, try again later\r\n")
            return
        conn.sendall(b"220 fault.test ESMTP\r\n")
        while True:
            line = reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                lines = [b"fault.test"] + ([b"PIPELINING"] if pipelining else []) + [b"8BITMIME"] \
                    + ([b"AUTH PLAIN"] if mode == "auth-535" else [])
                conn.sendall(b"".join(b"250-" + l + b"\r\n" for l in lines[:-1]) + b"250 " + lines[-1] + b"\r\n")
            elif verb == b"HELO":
                conn.sendall(b"250 fault.test\r\n")
            elif verb == b"AUTH" and mode == "auth-535":
                log(f"auth {number}")
                if len(line.split()) < 3:  # no initial response: ask for the credentials, read and ignore them
                    conn.sendall(b"334 \r\n")
                    reader.readline()
                conn.sendall(b"535 5.7.8 Authentication credentials invalid\r\n")
            elif verb == b"MAIL":
                log(f"mail {number}")
                mails += 1
                if mode == "close-on-every-mail" or (mode == "close-on-first-mail" and number == 1) \
                        or (mode == "close-on-second-mail" and number == 1 and mails == 2):
                    return
                if mode == "hold-first-mail" and number == 1:
                    released.wait()
                    return
                if mode == "auth-530-on-mail":
                    conn.sendall(b"530 5.7.0 Authentication required\r\n")
                    continue
                if mode == "garbage-on-mail":
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\n")
                    continue
                conn.sendall(b"250 2.1.0 OK\r\n")
            elif verb == b"RCPT":
                conn.sendall(b"250 2.1.5 OK\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                message = bytearray()
                while True:
                    data_line = reader.readline()
                    if not data_line:
                        return
                    if data_line == b".\r\n":
                        break
                    message += data_line[1:] if data_line.startswith(b".") else data_line
                log(f"end {number}")
                if mode == "close-after-data" or (mode == "close-after-first-data" and number == 1):
                    return
                if mode == "stall-after-data":
                    while reader.readline():
                        pass
                    return
                with lock:
                    stored += 1
                    n = stored
                with open(os.path.join(directory, f"{n}.eml"), "wb") as f:
                    f.write(message)
                if mode == "close-after-reply":
                    # Corked, the reply leaves with the FIN in one segment: the client reads both at once.
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                    conn.sendall(b"250 2.0.0 stored\r\n")
                    return
                conn.sendall(b"250 2.0.0 stored\r\n")
            elif verb in (b"RSET", b"NOOP"):
                conn.sendall(b"250 2.0.0 OK\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 2.0.0 bye\r\n")
                return
            else:
                conn.sendall(b"500 5.5.2 unknown command\r\n")
    except OSError:
        pass
    finally:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        reader.close()
        conn.close()


def accept_loop(listener):
    global connections
    while True:
        conn, _ = listener.accept()
        with lock:
            connections += 1
            number = connections
        log(f"connect {number}")
        threading.Thread(target=serve, args=(conn, number), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
threading.Thread(target=accept_loop, args=(listener,), daemon=True).start()
with open(ready + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(ready + ".tmp", ready)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait()
