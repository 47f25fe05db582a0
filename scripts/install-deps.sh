#!/usr/bin/env bash
# Installs the Debian packages Herald builds and tests with. Idempotent; quiet when all is present.
set -euo pipefail
packages=(libsqlite3-dev libcurl4-openssl-dev pkg-config python3 ca-certificates curl)
if [ "${1:-}" = "--test" ]; then
    packages+=(sqlite3)
    # The server of the PostgreSQL store suite (scripts/postgres.sh starts a throwaway cluster of its own).
    packages+=(postgresql)
    # Real servers for the delivery integration tests and benchmarks (never started by apt here).
    packages+=(kannel kannel-extras postfix nginx-light wrk openssl iproute2 python3-pip)
    # h2load: the HTTP/2 load generator the push benchmarks compare Herald with (against Tests/Fixtures/push).
    packages+=(nghttp2-client)
    # systemd-analyze and systemd-tmpfiles check the unit and tmpfiles snippet in systemd/.
    packages+=(systemd)
    # The console's browser test (Tests/Fixtures/console): headless Chromium driven by Selenium.
    packages+=(chromium chromium-driver)
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
    # The SMTP server and the Standard Webhooks reference verifier used by the integration tests, at the
    # versions the fixtures were written against (smtp_server.py looks into aiosmtpd's stream reader).
    # Then the push-provider fakes (Tests/Fixtures/push: h2, PyJWT, cryptography, http-ece) and the reference
    # clients that check_fakes.py proves them with (aioapns, pywebpush, google-auth, firebase-admin). Selenium
    # drives Chromium in the console's browser test.
    wanted=(aiosmtpd==1.4.6 standardwebhooks==1.1.0
            h2==4.4.1 pyjwt==2.15.1 cryptography==50.0.2 http-ece==1.2.1
            aioapns==4.0 pywebpush==2.5.0 google-auth==2.63.0 firebase-admin==7.7.0
            selenium==4.50.0)
    if ! python3 -c "
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, wanted = pin.split('==')
    try:
        assert version(name) == wanted
    except (PackageNotFoundError, AssertionError):
        sys.exit(1)" "${wanted[@]}" >/dev/null 2>&1; then
        echo "installing: ${wanted[*]} (pip)"
        python3 -m pip install -q "${wanted[@]}" \
            || python3 -m pip install -q --break-system-packages "${wanted[@]}"
    fi
fi
