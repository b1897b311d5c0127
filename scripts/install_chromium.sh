#!/usr/bin/env bash
# Debian's chromium for the end-to-end browser test (Playwright drives it; Playwright's
# own browser downloads are not used). Needs root or sudo for apt-get.
set -euo pipefail
if command -v chromium >/dev/null; then exit 0; fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "==> installing Debian's chromium (apt-get; about a minute)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
command -v chromium
