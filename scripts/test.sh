#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the build and tests use: SQLite's headers (GRDB links the system SQLite) and git
# (run provenance is read from git).
missing=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
command -v git >/dev/null 2>&1 || missing+=(git)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "missing packages: ${missing[*]} (install them with apt-get as root)" >&2
        exit 1
    fi
fi

swift build --build-tests
swift test --skip-build
