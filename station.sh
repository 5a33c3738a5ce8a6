#!/usr/bin/env bash
# Set up everything Returns Station needs, then run it:
#   ./station.sh demo [--web] [--port N]   the embedded ERP with demo data plus the station app
#   ./station.sh test [PYTEST ARGS]        the whole test suite (unit, real Tryton, real Chromium)
#   ./station.sh <any station command>     e.g. ./station.sh erp serve
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")"

want_tests=0
[ "${1:-}" = "test" ] && want_tests=1

# --- system packages (Debian/Ubuntu) --------------------------------------------------------
need=()
dpkg -s libzbar0 >/dev/null 2>&1 || need+=(libzbar0)
if [ "$want_tests" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "station.sh: installing system packages: ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "station.sh: missing system packages: ${need[*]}" >&2
    echo "  install them with: sudo apt-get install ${need[*]}" >&2
    [ "$want_tests" = 1 ] && exit 1
    echo "  (continuing: the station reads barcodes with zxing-cpp alone until libzbar0 is there)" >&2
  fi
fi

# --- Python environment ----------------------------------------------------------------------
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "station.sh: Python 3.11 or newer is needed (found $(python3 --version 2>&1))" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  echo "station.sh: installing Python packages into .venv (first run takes a minute or two)"
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e '.[test]'; } >.venv/pip.log 2>&1; then
    tail -n 30 .venv/pip.log >&2
    echo "station.sh: installing Python packages failed (full log: .venv/pip.log)" >&2
    exit 1
  fi
  rm -f .venv/.installed-* && touch "$stamp"
fi

if [ "$want_tests" = 1 ]; then
  shift
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/station "$@"
