#!/usr/bin/env bash
# Brings the product up on this machine with the embedded defaults (SQLite file, filesystem broker),
# or with DATABASE_URL / REDIS_URL when they are set: migrate, demo users, demo data and a trained
# model, then the Celery worker and Celery beat (the periodic monitoring reports and stale-job sweep) in the background
# and the web server (gunicorn, gunicorn.conf.py) in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# Development mode unless DEBUG is set: DEBUG=0 is a production setup, where create_demo_users refuses.
export DEBUG=${DEBUG:-1}
LOG_DIR="${DATA_DIR:-data}/logs"
mkdir -p "$LOG_DIR"

$BIN/python manage.py migrate --noinput
# First the demo users: with DEBUG off they are refused, and the run stops before any demo data is written.
credentials=$($BIN/python manage.py create_demo_users)
$BIN/python manage.py seed_demo
# The active version's first monitoring report (Celery beat writes the next ones, once a day).
$BIN/python manage.py monitor >"$LOG_DIR/monitor.log" 2>&1 || echo "No monitoring report written: see $LOG_DIR/monitor.log" >&2

# Appended to, so the log of an earlier run (and why it stopped) is still there.
echo "=== worker started $(date -u +%Y-%m-%dT%H:%M:%SZ) ===" >>"$LOG_DIR/worker.log"
$BIN/celery -A nplsite worker --pool=solo --loglevel=INFO >>"$LOG_DIR/worker.log" 2>&1 &
worker_pid=$!
$BIN/celery -A nplsite beat --schedule "${DATA_DIR:-data}/celerybeat-schedule" --loglevel=INFO >"$LOG_DIR/beat.log" 2>&1 &
beat_pid=$!
trap 'kill $worker_pid $beat_pid 2>/dev/null || true; wait $worker_pid $beat_pid 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  NPL risk platform is starting at  http://$HOST:$PORT/
  Log in with:
$(echo "$credentials" | sed 's/^/    /')
  Background worker: pid $worker_pid, log $LOG_DIR/worker.log
  Celery beat (daily monitoring reports): pid $beat_pid, log $LOG_DIR/beat.log
  Stop with Ctrl+C.

MSG
# The web server as deployed: gunicorn with the repository's gunicorn.conf.py (keep-alive gthread
# workers, the request limits), which reads HOST and PORT.
export HOST PORT
$BIN/gunicorn
