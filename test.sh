#!/usr/bin/env bash
# One command to run the tests: installs what they need, then runs the whole suite on the
# embedded defaults (SQLite + embedded Redis) and, when PostgreSQL (127.0.0.1:5432) and Redis
# (127.0.0.1:6379) answer, again on them. With CI=true both are required, and so is Chromium.
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
echo "=== Tests on SQLite + embedded Redis"
TEST_BACKEND=embedded python -m pytest "$@" || status=1
if services_answer; then
  echo "=== Tests on PostgreSQL + Redis server"
  TEST_BACKEND=services python -m pytest "$@" || status=1
elif [ "${CI:-}" = "true" ]; then
  echo "CI needs PostgreSQL and Redis on 127.0.0.1" >&2
  status=1
else
  echo "=== Skipped the PostgreSQL + Redis run: they don't answer on 127.0.0.1"
fi
exit $status
