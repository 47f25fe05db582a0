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
    # systemd-analyze and systemd-tmpfiles check the unit and tmpfiles snippet in systemd/.
    packages+=(systemd)
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
    wanted=(aiosmtpd==1.4.6 standardwebhooks==1.1.0)
    if ! python3 -c "
from importlib.metadata import version
assert version('aiosmtpd') == '1.4.6' and version('standardwebhooks') == '1.1.0'" >/dev/null 2>&1; then
        echo "installing: ${wanted[*]} (pip)"
        python3 -m pip install -q "${wanted[@]}" \
            || python3 -m pip install -q --break-system-packages "${wanted[@]}"
    fi
fi
