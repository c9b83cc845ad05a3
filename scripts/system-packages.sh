#!/usr/bin/env bash
# Installs the optional system packages: espeak-ng (speech in simulated recordings) and Chromium
# (browser tests). Needs root or password-less sudo; otherwise says what is missing and goes on.
set -uo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "Not installed: ${missing[*]} (no root). Recordings use a placeholder tone without espeak-ng;" \
       "browser tests are skipped without Chromium. Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
if command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} with apt-get..."
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "No apt-get here: install ${missing[*]} with your package manager." >&2
fi
