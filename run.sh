#!/usr/bin/env bash
# One command to run the platform on a fresh machine: installs what it needs, migrates the
# database, loads the demo organization, then runs the web server and a worker on the embedded
# defaults (SQLite + embedded Redis under instance/, simulated telephony).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh runtime
scripts/system-packages.sh run || true
source .venv/bin/activate

export FLASK_APP=wsgi
PORT="${PORT:-8000}"
flask db upgrade
flask seed-demo

python worker.py --processes "${WORKERS:-1}" &
worker_pid=$!
trap 'kill $worker_pid 2>/dev/null; wait $worker_pid 2>/dev/null' EXIT INT TERM

echo
echo "  Voice agents is running at http://127.0.0.1:$PORT  (log in as demo@example.com / demo-password)"
echo "  API docs: http://127.0.0.1:$PORT/docs   Stop with Ctrl-C."
echo
gunicorn --bind "${HOST:-127.0.0.1}:$PORT" --worker-class gthread --workers 2 --threads 256 \
  --timeout 0 --access-logfile - wsgi:app
