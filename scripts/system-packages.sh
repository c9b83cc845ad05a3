#!/usr/bin/env bash
# Installs optional system packages with apt-get: espeak-ng (speech in simulated recordings) and,
# with "test", Chromium (browser tests) and wrk (benchmark smoke tests). Needs root or
# password-less sudo; otherwise says what is missing and goes on.
# Usage: scripts/system-packages.sh [run|test]
set -uo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
if [ "${1:-run}" = "test" ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v wrk >/dev/null || missing+=(wrk)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "Not installed: ${missing[*]} (no root). Recordings use a placeholder tone without espeak-ng;" \
       "browser and benchmark smoke tests are skipped without Chromium and wrk." \
       "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
if command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} with apt-get..."
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "No apt-get here: install ${missing[*]} with your package manager." >&2
fi
