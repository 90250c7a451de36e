#!/usr/bin/env bash
# bench-wait-policy.sh TCONV [ROUNDS] — images/s of a short `tconv train` (autoencoder,
# synthetic set, LIMIT images (default 6400) in batches of 64) under several OpenMP
# settings, in three states of the machine:
#   idle     nothing of this script's own running
#   loaded   two busy loops (started here, stopped here, each bounded by `timeout`)
#            compete for the cores from before the run starts
#   late     the same two loops start 0.3 s after the run, when tconv's choice is made
# The settings alternate within each round so that outside load (other jobs on a shared
# machine) hits them alike. Prints one line per run: state setting img/s.
#   1-thread      --threads 1
#   default       nothing set: tconv's own choice (tools/omp_wait.c), which it names
#   passive       OMP_WAIT_POLICY=passive
#   spin-1000, spin-10000, spin-300000   GOMP_SPINCOUNT=N (300000: libgomp's behaviour
#                 when nothing is set, i.e. tconv before it chose a policy)
set -euo pipefail
tconv=$1
rounds=${2:-3}
limit=${LIMIT:-6400}
work=$(mktemp -d /tmp/tconv_wait_XXXXXX)
# The loops' pids go to a file: the late ones are started from a background subshell.
start_load() { for _ in 1 2; do timeout 600 bash -c 'while :; do :; done' & echo $! >>"$work/loops"; done; }
stop_load() { [ -f "$work/loops" ] && xargs kill <"$work/loops" 2>/dev/null; rm -f "$work/loops"; }
trap 'stop_load; rm -rf "$work"' EXIT

run() { # state label env-assignments... -- extra train options...
  local state=$1 label=$2; shift 2
  local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  rm -rf "$work/run"
  [ "$state" = late ] && { sleep 0.3; start_load; } &
  local starter=$!
  local rate
  rate=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u TCONV_OMP_WAIT "${envs[@]}" "$tconv" train \
           --synthetic --limit "$limit" --epochs 1 --batch 64 --checkpoint-every 0 \
           --out "$work/run" "$@" 2>&1 |
         sed -n 's/.* \([0-9][0-9]*\) img\/s took.*/\1/p' | tail -1)
  wait "$starter" 2>/dev/null || true
  [ "$state" = late ] && stop_load
  echo "$state $label $rate"
}

round() {
  local state=$1
  run "$state" 1-thread -- --threads 1
  run "$state" default --
  run "$state" passive OMP_WAIT_POLICY=passive --
  run "$state" spin-1000 GOMP_SPINCOUNT=1000 --
  run "$state" spin-10000 GOMP_SPINCOUNT=10000 --
  run "$state" spin-300000 GOMP_SPINCOUNT=300000 --
}

for _ in $(seq "$rounds"); do
  round idle
  start_load
  round loaded
  stop_load
  round late
done
