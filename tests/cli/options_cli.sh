#!/usr/bin/env bash
# options_cli.sh TCONV — `tconv train` refuses bad option strings before it trains: exit 2,
# one line naming the option, the string and what was expected, and nothing written.
# A layer option that parses but does not fit its variable (an axis beyond the kernel's
# rank) stops the run at model build, before the first step, with the layer named.
set -euo pipefail
tconv=$1
work=$(mktemp -d /tmp/tconv_opts_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
base=(--synthetic --limit 64 --batch 32 --epochs 1 --threads 1 --checkpoint-every 0)

# refused OPTION VALUE NEEDLE: exit 2, NEEDLE on stderr, no output directory made
refused() {
  local rc=0
  "$tconv" train "${base[@]}" --out "$work/out" "$1" "$2" >/dev/null 2>"$work/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "$1 $2: exit $rc, want 2"
  grep -qF -- "$3" "$work/err" || fail "$1 $2: no '$3' in: $(cat "$work/err")"
  [ ! -e "$work/out" ] || fail "$1 $2: made $work/out"
  echo "ok: $1 $2 refused (exit 2)"
}

refused --activation leaky_relu:1e39 "not finite in float32"
refused --activation elu:1e39 "not finite in float32"
refused --kernel-regularizer l2:1e39 "not finite in float32"
refused --kernel-regularizer l1:1e39 "not finite in float32"
refused --bias-initializer constant:1e39 "not finite in float32"
refused --kernel-constraint max_norm:1e39 "not finite in float32"
refused --activity-regularizer l2:nan "not a number"
refused --kernel-regularizer l2:0x1p-3 "no hex-floats"
refused --optimizer adam:lr=1e39 "not finite in float32"
refused --optimizer sgd:beta1=0.5 "beta1 does not apply to sgd"
refused --optimizer momentum:0.9 "lacks '='"
refused --optimizer adam:lr=0.1:lr=0.2 "lr is given twice"

# A constraint that parses but does not fit the kernel: refused at model build, the layer,
# variable, axis and rank named, no checkpoint written.
rc=0
"$tconv" train "${base[@]}" --out "$work/ax" --kernel-constraint max_norm:2:axis=5 \
  >/dev/null 2>"$work/err" || rc=$?
[ "$rc" -eq 2 ] || fail "max_norm:2:axis=5: exit $rc, want 2"
grep -qF "conv2d_transpose 'decoder_up1': kernel_constraint: max_norm: axis 5 is out of range for a tensor of rank 4" \
  "$work/err" || fail "axis=5: $(cat "$work/err")"
[ ! -e "$work/ax/checkpoint.npz" ] || fail "axis=5: a checkpoint was written"
echo "ok: max_norm:2:axis=5 refused at model build (exit $rc)"
rc=0
"$tconv" train "${base[@]}" --out "$work/or" --bias-initializer orthogonal \
  >/dev/null 2>"$work/err" || rc=$?
[ "$rc" -eq 2 ] || fail "bias orthogonal: exit $rc, want 2"
grep -qF "bias_initializer: orthogonal: the tensor must be at least 2-d, got rank 1" \
  "$work/err" || fail "bias orthogonal: $(cat "$work/err")"
echo "ok: --bias-initializer orthogonal refused at model build (exit $rc)"
