#!/usr/bin/env bash
# Installs Debian's Chromium (and its driver) for the end-to-end browser tests, only when missing.
# Playwright drives this browser (never `playwright install`, which would download its own build).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "Chromium is already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
/usr/bin/chromium --version
