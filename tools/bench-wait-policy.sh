#!/usr/bin/env bash
# bench-wait-policy.sh TCONV [ROUNDS] — images/s of a short `tconv train` (autoencoder,
# synthetic set, 20 steps of 64) under four OpenMP settings, on an idle machine and with
# two busy loops (started here, stopped here, each bounded by `timeout`) competing for the
# cores. The settings alternate within each round so that outside load (other jobs on a
# shared machine) hits them alike. Prints one line per run: state setting img/s.
#   1 thread      --threads 1
#   spin 300000   default threads, GOMP_SPINCOUNT=300000: libgomp's behaviour when
#                 nothing is set, i.e. tconv before it chose a policy
#   spin 10000    default threads, GOMP_SPINCOUNT=10000 (a shorter spin, the other candidate)
#   passive       default threads, nothing set: tconv's default, OMP_WAIT_POLICY=passive
set -euo pipefail
tconv=$1
rounds=${2:-3}
work=$(mktemp -d /tmp/tconv_wait_XXXXXX)
loops=()
stop_load() { for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done; loops=(); }
trap 'stop_load; rm -rf "$work"' EXIT

run() { # state label env-assignments... -- extra train options...
  local state=$1 label=$2; shift 2
  local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  local rate
  rate=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "${envs[@]}" "$tconv" train --synthetic \
           --limit 1280 --epochs 1 --batch 64 --checkpoint-every 0 --out "$work/run" "$@" 2>&1 |
         sed -n 's/.* \([0-9][0-9]*\) img\/s took.*/\1/p' | tail -1)
  echo "$state $label $rate"
}

round() {
  local state=$1
  run "$state" "1-thread" -- --threads 1
  run "$state" "spin-300000" GOMP_SPINCOUNT=300000 --
  run "$state" "spin-10000" GOMP_SPINCOUNT=10000 --
  run "$state" "passive" --
}

for r in $(seq "$rounds"); do
  round idle
  for _ in 1 2; do
    timeout 600 bash -c 'while :; do :; done' &
    loops+=($!)
  done
  round loaded
  stop_load
done
