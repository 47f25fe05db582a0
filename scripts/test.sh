#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds, runs every test target. The store suite runs
# against SQLite and against a throwaway PostgreSQL cluster on 127.0.0.1 (HERALD_TEST_POSTGRES_URL), which is
# removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
swift build --build-tests

pgtmp=$(mktemp -d)
# The server runs as the `postgres` user when this runs as root: it must be able to reach its data directory.
chmod 755 "$pgtmp"
trap './scripts/postgres.sh stop "$pgtmp/data" || true; rm -rf "$pgtmp"' EXIT
pgport=$(python3 -c 'import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])')
HERALD_TEST_POSTGRES_URL=$(./scripts/postgres.sh start "$pgtmp/data" "$pgport")
export HERALD_TEST_POSTGRES_URL

swift test --skip-build
# The push suites (provider fakes, push through the daemon) in a process of their own: in one process with the
# rest, the test process crashed inside Foundation's Process.run (Tests/HeraldIntegrationTests/Push/PushFakes.swift).
HERALD_PUSH_FAKE_TESTS=1 swift test --skip-build --filter "$(cat Tests/push-suites.txt)"
