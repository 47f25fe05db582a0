#!/usr/bin/env python3
"""Parses a stored message with Python's `email` package and prints it as JSON:
{"headers": {name: [decoded values]}, "raw_headers": [lines], "parts": [{"type", "charset", "encoding", "content"}]}.

Usage: parse_mail.py FILE.eml
"""
import json
import sys
from email import message_from_bytes, policy

raw = open(sys.argv[1], "rb").read()
message = message_from_bytes(raw, policy=policy.default)
headers = {}
for name, value in message.items():
    headers.setdefault(name.lower(), []).append(str(value))
parts = []
for part in message.walk():
    if part.is_multipart():
        continue
    parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(),
                  "encoding": part.get("Content-Transfer-Encoding"), "content": part.get_content()})
head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace").split("\r\n")
print(json.dumps({"headers": headers, "raw_headers": head, "type": message.get_content_type(),
                  "defects": [str(d) for d in message.defects], "parts": parts}))
