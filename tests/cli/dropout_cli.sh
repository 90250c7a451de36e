#!/usr/bin/env bash
# dropout_cli.sh TCONV [MPIEXEC] — a network file with dropout (docs/networks.md): the masks
# of a step are a function of the seed, the step and the shard (tc_net_dropout_seek), so a
# run stopped and resumed, one with another thread count and (where MPI is built) one on 2
# ranks end with the same bits as one uninterrupted process.
set -euo pipefail
tconv=$1
mpiexec=${2:-}
work=$(mktemp -d /tmp/tconv_drop_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
printf '%s\n' 'input x shape=28,28,1' \
  'conv2d c x filters=8 kernel_size=3 padding=same activation=relu' \
  'dropout d c rate=0.5' 'conv2d y d filters=1 kernel_size=3 padding=same' 'output y' \
  'loss mse output=y' >"$work/drop.net"
run=(--synthetic --limit 128 --batch 32 --epochs 2 --net "$work/drop.net")
"$tconv" train "${run[@]}" --threads 2 --out "$work/a" >/dev/null 2>&1 || fail "straight run"
"$tconv" train "${run[@]}" --threads 2 --out "$work/b" --max-steps 3 >/dev/null 2>&1 || fail "first part"
"$tconv" train "${run[@]}" --threads 1 --out "$work/b" --resume >/dev/null 2>&1 || fail "resume"
cmp -s "$work/a/checkpoint.npz" "$work/b/checkpoint.npz" \
  || fail "stopped at step 3 and resumed on 1 thread differs from the straight run"
"$tconv" train "${run[@]}" --threads 2 --seed 2 --out "$work/c" >/dev/null 2>&1 || fail "seed 2"
cmp -s "$work/a/checkpoint.npz" "$work/c/checkpoint.npz" \
  && fail "another seed gave the same checkpoint: the test cannot tell masks apart"
echo "ok: dropout resumes bit for bit (and on another thread count)"
if [ -n "$mpiexec" ]; then
  "$mpiexec" --allow-run-as-root --oversubscribe -np 2 "$tconv" train "${run[@]}" --threads 1 \
    --out "$work/m" >/dev/null 2>&1 || fail "2 ranks"
  cmp -s "$work/a/checkpoint.npz" "$work/m/checkpoint.npz" || fail "2 ranks differ from 1"
  echo "ok: dropout on 2 MPI ranks gives the bits of 1 process"
fi
