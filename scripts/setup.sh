#!/usr/bin/env bash
# Creates .venv and installs the Python requirements (again only when they changed).
# Usage: scripts/setup.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-runtime}"
requirements="requirements.txt"
[ "$kind" = "dev" ] && requirements="requirements-dev.txt"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (found: $("$python" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv

stamp=".venv/.installed-$kind"
wanted="$(cat requirements.txt "$requirements" | sha256sum | cut -c1-16)"
dev_wanted="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)"
if [ "$kind" = runtime ] && [ "$(cat .venv/.installed-dev 2>/dev/null)" = "$dev_wanted" ]; then
  exit 0  # the development requirements include the runtime ones
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing Python packages ($requirements)..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$requirements"
  echo "$wanted" > "$stamp"
fi
