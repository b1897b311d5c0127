#!/usr/bin/env bash
# Debian's PostgreSQL server for the order backend's tests (tests/backends/test_postgres.py
# starts its own server from these binaries, with initdb, in a temp dir on a free port).
# Nothing is started or enabled here. Needs root or sudo for apt-get.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "==> installing Debian's postgresql (apt-get; about a minute)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql
ls /usr/lib/postgresql/*/bin/initdb
