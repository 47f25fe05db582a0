#!/usr/bin/env python3
"""Proves the push fakes faithful: each fake is started as a Swift test starts it (a process, a READY file, a
RECORD file) and driven by the providers' reference clients (aioapns and libcurl for APNs; google-auth,
firebase-admin and a hand-made JWT-bearer grant for FCM; pywebpush for Web Push). The success paths and every
error cue must give the answers the providers document.

Usage: python3 Tests/Fixtures/push/check_fakes.py [apns] [fcm] [webpush]     (all three by default)
Exit status 0 when every check passed; each failure is printed with what was expected and what came.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Checks:
    """Counts expectations; a failed one is printed at once with its reason."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def expect(self, condition, what, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"FAIL {what}{': ' + detail if detail else ''}", flush=True)
        return condition

    def equal(self, actual, expected, what):
        return self.expect(actual == expected, what, f"got {actual!r}, expected {expected!r}")


class Fake:
    """One fake server process in its own folder, started the way the Swift tests start it."""

    def __init__(self, name, script, args, root):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=root)
        self.ready = self.file("ready")
        self.record = self.file("record.jsonl")
        self.control_path = self.file("control.json")
        self.stats_path = self.file("stats.json")
        self.log_path = self.file("server.log")
        command = [sys.executable, os.path.join(HERE, script), self.ready, self.record,
                   "--control", self.control_path, "--stats", self.stats_path] + [a.format(dir=self.dir) for a in args]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while not os.path.exists(self.ready):
            if self.process.poll() is not None or time.time() > deadline:
                sys.exit(f"{name}: the fake never became ready; its log:\n{self.log()}")
            time.sleep(0.02)
        self.port = int(open(self.ready).read())

    def file(self, name):
        return os.path.join(self.dir, name)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def records(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stats(self):
        with open(self.stats_path) as f:
            return json.load(f)

    def control(self, directive):
        with open(self.control_path + ".tmp", "w") as f:
            json.dump(directive, f)
        os.rename(self.control_path + ".tmp", self.control_path)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main(argv):
    import importlib
    suites = ("apns", "fcm", "webpush")
    chosen = argv or list(suites)
    unknown = [name for name in chosen if name not in suites]
    if unknown:
        sys.exit(f"unknown suite(s) {unknown}; choose among {list(suites)}")
    checks = Checks()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="push-fakes-") as root:
        for name in chosen:
            before = checks.passed + len(checks.failed)
            suite_started = time.time()
            try:
                suite = importlib.import_module("check_" + name)
                suite.run(checks, lambda *a: Fake(*a, root=root), root)
            except Exception:
                checks.expect(False, f"{name}: the checks stopped on an exception", traceback.format_exc())
            print(f"{name}: {checks.passed + len(checks.failed) - before} checks in "
                  f"{time.time() - suite_started:.1f} s", flush=True)
    print(f"check_fakes: {checks.passed} passed, {len(checks.failed)} failed ({time.time() - started:.1f} s)")
    if checks.failed:
        print("failed: " + "; ".join(checks.failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
