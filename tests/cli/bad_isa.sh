#!/usr/bin/env bash
# bad_isa.sh TCONV — an unknown TCONV_ISA is refused by the command, not taken as "widest":
# `tconv bench` and `tconv train` exit 2 naming the value and the accepted ones;
# TCONV_FORCE_PORTABLE=1 still forces the portable kernels.
set -uo pipefail
tconv=$1
work=$(mktemp -d /tmp/tconv_isa_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
echo "tiny 1 2 2 4 4 3 3 1 1 same" > "$work/shapes.txt"

TCONV_ISA=avx3 "$tconv" bench --shapes "$work/shapes.txt" --reps 1 > "$work/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "bench with TCONV_ISA=avx3 exited $rc, not 2"
grep -q "TCONV_ISA 'avx3' is not known; accepted: 'portable', 'avx2', 'avx512'" "$work/out" ||
  fail "bench's message does not name the value: $(cat "$work/out")"
echo "ok: bench refuses TCONV_ISA=avx3 (exit $rc)"

TCONV_ISA=avx3 "$tconv" train --synthetic --limit 64 --batch 32 --epochs 1 \
  --out "$work/run" > "$work/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "train with TCONV_ISA=avx3 exited $rc, not 2"
grep -q "TCONV_ISA 'avx3'" "$work/out" || fail "train's message does not name the value"
[ ! -e "$work/run/checkpoint.npz" ] || fail "train wrote a checkpoint"
echo "ok: train refuses TCONV_ISA=avx3 (exit $rc), no checkpoint"

TCONV_ISA=avx3 TCONV_FORCE_PORTABLE=1 "$tconv" bench --shapes "$work/shapes.txt" --reps 1 \
  > "$work/out" 2>&1 || fail "TCONV_FORCE_PORTABLE=1 did not override: $(cat "$work/out")"
grep -q "isa=portable" "$work/out" || fail "TCONV_FORCE_PORTABLE=1 did not run portable kernels"
echo "ok: TCONV_FORCE_PORTABLE=1 runs the portable kernels"

# TCONV_CACHES (core/ukr/caches.h): malformed is refused the same way; a valid one is shown
TCONV_CACHES=1M "$tconv" train --synthetic --limit 64 --batch 32 --epochs 1 \
  --out "$work/run2" > "$work/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "train with TCONV_CACHES=1M exited $rc, not 2"
grep -q "TCONV_CACHES '1M' is not 'L1D,L2\[,L3\]'" "$work/out" ||
  fail "train's message does not name TCONV_CACHES: $(cat "$work/out")"
[ ! -e "$work/run2/checkpoint.npz" ] || fail "train wrote a checkpoint"
echo "ok: train refuses TCONV_CACHES=1M (exit $rc), no checkpoint"
TCONV_CACHES=32K,256K "$tconv" bench --shapes "$work/shapes.txt" --reps 1 > "$work/out" 2>&1 ||
  fail "bench with TCONV_CACHES=32K,256K failed: $(cat "$work/out")"
grep -q "l2=256K" "$work/out" || fail "the plan does not show TCONV_CACHES' L2: $(cat "$work/out")"
echo "ok: TCONV_CACHES=32K,256K reaches the plan"
