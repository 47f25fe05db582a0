#!/usr/bin/env bash
# Installs the Debian packages Herald builds and tests with. Idempotent; quiet when all is present.
set -euo pipefail
packages=(libsqlite3-dev libcurl4-openssl-dev pkg-config python3 ca-certificates)
if [ "${1:-}" = "--test" ]; then
    packages+=(sqlite3)
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
