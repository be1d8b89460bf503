#!/usr/bin/env bash
# Runs the whole test suite: lint, then pytest against SQLite and the embedded broker by default,
# or against DATABASE_URL / REDIS_URL when they are set (as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

$BIN/ruff check .
if [ ! -x /usr/bin/chromium ]; then
  echo "NOTE: Chromium is not installed, so the end-to-end browser tests in tests/e2e were SKIPPED." >&2
  echo "      Install it with 'make browser' (Debian's chromium package) to run them." >&2
fi
$BIN/python -m pytest --create-db "$@"
