#!/usr/bin/env bash
# Runs the whole test suite: lint, then pytest against SQLite and the embedded broker by default,
# or against DATABASE_URL / REDIS_URL when they are set (as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

$BIN/ruff check .
$BIN/python -m pytest --create-db "$@"
