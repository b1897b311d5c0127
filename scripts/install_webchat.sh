#!/usr/bin/env bash
# Installs the rasa-webchat widget (a self-contained UMD bundle) from the npm registry
# into bot/static/vendor/webchat.js. Not committed: the set-up fetches this exact version.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.0.1
TARGET=bot/static/vendor/webchat.js
command -v npm >/dev/null || { echo "error: npm is needed to install the rasa-webchat widget" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "==> installing rasa-webchat@$VERSION from the npm registry"
(cd "$work" && npm pack "rasa-webchat@$VERSION" --silent >/dev/null && tar xzf "rasa-webchat-$VERSION.tgz")
mkdir -p "$(dirname "$TARGET")"
cp "$work/package/lib/index.js" "$TARGET"
cp "$work/package/LICENSE" "$(dirname "$TARGET")/webchat.LICENSE"
echo "==> $TARGET ($(wc -c < "$TARGET") bytes)"
