#!/usr/bin/env bash
# The README's main-job command: installs what is missing, builds, and runs `tconv train`
# with its defaults (extra arguments are passed on). Run again, it starts afresh over the
# last run's checkpoint (it passes --force), unless the arguments say --resume (or --force).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
args=("$@")
case " $* " in
  *" --resume "* | *" --force "*) ;;
  *) args=(--force "$@") ;;
esac
exec build/tconv train "${args[@]}"
