#!/usr/bin/env bash
# lanes_cli.sh TCONV — a reconstruction step's shards computed side by side, one thread each
# on replicas of the network (tools/train_ae_lanes.h), give the bits of one shard after
# another: --threads 2 and 4 (2 and 4 lanes) against --threads 1, for the default network
# and for a network file with batch norm (state averaged over the shards), dropout (masks
# per shard) and an activity regularizer (a loss on each lane's tape); a resume across lane
# counts too. The lanes must have run: the run says so.
set -euo pipefail
tconv=$1
work=$(mktemp -d /tmp/tconv_lanes_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
printf '%s\n' 'input x shape=28,28,1' \
  'conv2d c x filters=8 kernel_size=3 strides=2 padding=same activity_regularizer=l2:0.001' \
  'batch_norm b c' 'activation r b activation=relu' 'dropout d r rate=0.25' \
  'conv2d_transpose y d filters=1 kernel_size=4 strides=2 padding=same activation=sigmoid' \
  'output y' 'loss mse output=y' >"$work/bn.net"

# run NAME THREADS ARGS...: trains into $work/NAME, its output in $work/NAME.log
run() {
  local name=$1 threads=$2
  shift 2
  "$tconv" train --synthetic --limit 256 --batch 32 --epochs 2 --threads "$threads" \
    --checkpoint-every 0 --out "$work/$name" "$@" >"$work/$name.log" 2>&1 ||
    fail "$name: $(tail -3 "$work/$name.log")"
}
lanes_said() { grep -q "shards: $2 at a time" "$work/$1.log" || fail "$1 did not run $2 lanes"; }

for net in default bn; do
  args=()
  [ "$net" = bn ] && args=(--net "$work/bn.net")
  run "$net-t1" 1 "${args[@]}"
  ! grep -q "at a time" "$work/$net-t1.log" || fail "$net-t1: lanes on one thread"
  for t in 2 4; do
    run "$net-t$t" "$t" "${args[@]}"
    lanes_said "$net-t$t" "$t"
    cmp -s "$work/$net-t1/checkpoint.npz" "$work/$net-t$t/checkpoint.npz" ||
      fail "$net: $t lanes differ from one shard after another"
  done
  echo "ok: $net network: 2 and 4 lanes give the bits of 1 thread"
done

# A stop after 5 steps on 2 lanes, resumed on 1 thread: the straight run's bits.
run part 2 --net "$work/bn.net" --max-steps 5
"$tconv" train --synthetic --limit 256 --batch 32 --epochs 2 --threads 1 --checkpoint-every 0 \
  --net "$work/bn.net" --out "$work/part" --resume >"$work/resume.log" 2>&1 ||
  fail "resume: $(tail -3 "$work/resume.log")"
cmp -s "$work/bn-t1/checkpoint.npz" "$work/part/checkpoint.npz" ||
  fail "2 lanes, stopped and resumed on 1 thread, differ from the straight run"
echo "ok: a run on 2 lanes resumes on 1 thread bit for bit"

# --profile times every op on one clock: it runs the shards one after another.
run prof 2 --profile
! grep -q "at a time" "$work/prof.log" || fail "--profile ran lanes"
cmp -s "$work/default-t1/checkpoint.npz" "$work/prof/checkpoint.npz" ||
  fail "--profile changed the bits"
echo "ok: --profile runs the shards in turn, the same bits"
