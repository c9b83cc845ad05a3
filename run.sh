#!/usr/bin/env bash
# One command to run the platform on a fresh machine: installs what it needs, migrates the
# database, loads the demo organization, then runs the web server and worker(s) on the embedded
# defaults (SQLite + embedded Redis under instance/, simulated telephony). Ctrl-C stops all of it.
# PORT (8000), HOST (127.0.0.1) and WORKERS (1) choose where it listens and how many workers run.
# With TELEPHONY_PROVIDER=twilio it also runs the media process (media.py) on MEDIA_PORT (PORT+1).
set -euo pipefail
cd "$(dirname "$0")"
step() { printf '==> %s\n' "$*"; }

step "Checking Python packages (the first run installs them into .venv: a minute or two)"
scripts/setup.sh runtime
scripts/system-packages.sh run || true
source .venv/bin/activate

export FLASK_APP=wsgi
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
WORKERS="${WORKERS:-1}"
MEDIA_PORT="${MEDIA_PORT:-$((PORT + 1))}"

step "Migrating the database"
flask db upgrade 2>&1 | grep -v '^INFO  \[alembic' || true
step "Loading the demo organization"
flask seed-demo

pids=()
stopping=0
alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
wait_gone() {  # wait_gone SECONDS PID...: wait until the processes have exited, at most about SECONDS
  local deadline=$((SECONDS + $1)); shift
  while alive "$@" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
}
descendants() {  # every process below the given ones
  local pid child
  for pid in "$@"; do
    for child in $(pgrep -P "$pid" 2>/dev/null); do echo "$child"; descendants "$child"; done
  done
}
stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  echo
  step "Stopping"
  local family
  family=("${pids[@]}" $(descendants "${pids[@]}"))
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait_gone 2 "${family[@]}"
  kill -KILL "${family[@]}" 2>/dev/null || true  # whatever did not stop by itself, children included
  wait 2>/dev/null || true
  redis_pid_file="${INSTANCE_PATH:-instance}/redis.pid"
  if [ -z "${REDIS_URL:-}" ] && [ -f "$redis_pid_file" ]; then  # the embedded Redis the processes started
    redis_pid="$(cat "$redis_pid_file")"
    kill -TERM "$redis_pid" 2>/dev/null || true  # Redis saves its data and exits on SIGTERM
    wait_gone 2 "$redis_pid"
  fi
  step "Stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

step "Starting $WORKERS worker(s) and the web server"
python worker.py --processes "$WORKERS" &
pids+=($!)
gunicorn --config scripts/gunicorn_run.py --bind "$HOST:$PORT" --worker-class gthread --workers 2 \
  --threads "${WEB_THREADS:-256}" --timeout 0 --log-level warning wsgi:app &
pids+=($!)
ports=("$PORT")
if [ "${TELEPHONY_PROVIDER:-simulated}" = twilio ]; then
  step "Starting the media process (Twilio media streams) on $HOST:$MEDIA_PORT"
  python media.py --host "$HOST" --port "$MEDIA_PORT" &
  pids+=($!)
  ports+=("$MEDIA_PORT")
fi

step "Waiting for /healthz on port(s) ${ports[*]} (database, Redis and a worker)"
python - "$HOST" "${ports[*]}" "${pids[@]}" <<'PY'
import json, os, signal, sys, time, urllib.error, urllib.request
signal.signal(signal.SIGINT, lambda *_: os._exit(130))  # Ctrl-C while waiting: run.sh's trap stops all
host, ports, pids = sys.argv[1], sys.argv[2].split(), [int(pid) for pid in sys.argv[3:]]
urls = [f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/healthz" for port in ports]
deadline, last = time.monotonic() + 120, "no answer yet"
while time.monotonic() < deadline:
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            time.sleep(0.5)  # a Ctrl-C stops the processes and this one
            sys.exit(f"a process stopped before the server was ready ({last})")
    try:
        for url in urls:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status != 200:
                    break
        else:
            sys.exit(0)
    except urllib.error.HTTPError as error:
        checks = json.loads(error.read() or b"{}").get("checks", {})
        last = "; ".join(f"{name}: {check.get('error')}" for name, check in checks.items() if not check.get("ok"))
    except OSError as error:
        last = str(error)
    time.sleep(0.2)
sys.exit(f"not ready after 120 s: {last}")
PY

echo
echo "  Voice agents is running at http://127.0.0.1:$PORT  (log in as demo@example.com / demo-password)"
echo "  API docs: http://127.0.0.1:$PORT/docs   Health: http://127.0.0.1:$PORT/healthz   Stop with Ctrl-C."
if [ "${#ports[@]}" -gt 1 ]; then
  echo "  Media streams: ws://127.0.0.1:$MEDIA_PORT/media/twilio (Twilio reaches it at MEDIA_PUBLIC_URL)"
fi
echo
wait -n "${pids[@]}" || true  # Ctrl-C, or one of them stopped: the EXIT trap stops the rest
