#!/usr/bin/env bash
# The README's main-job command: installs what is missing, builds, and runs `tconv train`
# with its defaults (extra arguments are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
exec build/tconv train "$@"
