#!/usr/bin/env bash
# Runs the whole test suite: lint, then pytest against SQLite and the embedded broker by default,
# or against DATABASE_URL / REDIS_URL when they are set (as .ci/run does).
# pytest runs in parallel processes (pytest-xdist, one per CPU; PYTEST_WORKERS=1 for one process),
# test by test (not --dist loadfile: it runs only one of the schemathesis items that share a node id),
# and prints how long this script took just above its closing line.
# Generated books and trained models are cached in data/test-cache (tests/model_cache.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
NPL_TEST_STARTED=$(date +%s.%N)
export NPL_TEST_STARTED

$BIN/ruff check .
if [ ! -x /usr/bin/chromium ]; then
  echo "NOTE: Chromium is not installed, so the end-to-end browser tests in tests/e2e were SKIPPED." >&2
  echo "      Install it with 'make browser' (Debian's chromium package) to run them." >&2
fi
WORKERS=${PYTEST_WORKERS:-auto}
if [ "$WORKERS" = 1 ]; then
  $BIN/python -m pytest --create-db "$@"
else
  $BIN/python -m pytest --create-db -n "$WORKERS" --dist load "$@"
fi
