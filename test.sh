#!/usr/bin/env bash
# One command to run the tests: installs what they need, then runs the whole suite on the
# embedded defaults (SQLite + embedded Redis) and, when PostgreSQL (127.0.0.1:5432) and Redis
# (127.0.0.1:6379) answer, at the same time on them (TEST_SERIAL=1: one after the other). With
# CI=true both are required, and so is Chromium.
# Extra arguments go to pytest (e.g. ./test.sh -k webhooks -x).
set -uo pipefail
cd "$(dirname "$0")"
scripts/setup.sh dev || exit 1
scripts/system-packages.sh test
source .venv/bin/activate

if [ "${CI:-}" = "true" ]; then export REQUIRE_BROWSER=1; fi
services_answer() {
  python - <<'PY'
import sys, psycopg, redis
try:
    psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=2).close()
    redis.Redis(socket_connect_timeout=2).ping()
except Exception as exc:
    print(f"PostgreSQL/Redis not reachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

status=0
if ! services_answer; then
  if [ "${CI:-}" = "true" ]; then echo "CI needs PostgreSQL and Redis on 127.0.0.1" >&2; exit 1; fi
  echo "=== Tests on SQLite + embedded Redis (PostgreSQL + Redis don't answer on 127.0.0.1: that run is skipped)"
  TEST_BACKEND=embedded python -m pytest "$@"
  exit $?
fi
if [ "${TEST_SERIAL:-}" = "1" ]; then
  echo "=== Tests on SQLite + embedded Redis"
  TEST_BACKEND=embedded python -m pytest "$@" || status=1
  echo "=== Tests on PostgreSQL + Redis server"
  TEST_BACKEND=services python -m pytest "$@" || status=1
  exit $status
fi
# Both backends at once: most of a run is spent waiting on worker processes, browsers and
# simulated calls, so the two overlap well. The PostgreSQL run's output is shown when it ends.
mkdir -p instance
services_log=instance/test-services.log
echo "=== Tests on SQLite + embedded Redis, and meanwhile on PostgreSQL + Redis server (output in $services_log)"
TEST_BACKEND=services python -m pytest "$@" >"$services_log" 2>&1 &
services_pid=$!
trap 'kill -INT $services_pid 2>/dev/null; wait $services_pid 2>/dev/null; exit 130' INT TERM
TEST_BACKEND=embedded python -m pytest "$@" || status=1
wait $services_pid || status=1
trap - INT TERM
echo "=== Tests on PostgreSQL + Redis server (the run that went on meanwhile)"
cat "$services_log"
exit $status
