#!/usr/bin/env bash
# trainkit_cli.sh TCONV — the training kit through `tconv train`: bad --lr-schedule strings
# and a warmup longer than the run are refused before training; an adamw run with a cosine
# schedule stopped and resumed (without repeating --lr-schedule: the checkpoint holds it)
# ends bit-identical to a straight one, and differs from the run without the schedule.
set -euo pipefail
tconv=$1
mpiexec=${2:-} # when tconv was built with MPI: the scheduled resume on 2 ranks too
work=$(mktemp -d /tmp/tconv_kit_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
base=(--synthetic --limit 64 --batch 32 --epochs 1 --threads 1 --checkpoint-every 0)

# refused WANT_RC NEEDLE ARGS...: exit WANT_RC, NEEDLE on stderr
refused() {
  local want=$1 needle=$2 rc=0
  shift 2
  "$tconv" train "${base[@]}" --out "$work/out" "$@" >/dev/null 2>"$work/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "$*: exit $rc, want $want ($(cat "$work/err"))"
  grep -qF -- "$needle" "$work/err" || fail "$*: no '$needle' in: $(cat "$work/err")"
  [ ! -e "$work/out/checkpoint.npz" ] || fail "$*: wrote a checkpoint"
  rm -rf "$work/out"
  echo "ok: $* refused (exit $rc)"
}

refused 2 "needs decay_steps" --lr-schedule cosine
refused 2 "decay_rate must be > 0" --lr-schedule exponential:decay_steps=10:decay_rate=0
refused 2 "warmup must be a whole number" --lr-schedule constant:warmup=-5
refused 2 "alpha does not apply to step" --lr-schedule step:alpha=0.1
refused 2 "weight_decay must be >= 0" --optimizer adamw:weight_decay=-0.1
refused 2 "warmup 500 is longer than the run's 2 steps" --lr-schedule cosine:decay_steps=9:warmup=500

common=(--synthetic --limit 192 --batch 32 --epochs 2 --threads 2 --optimizer adamw:lr=0.003)
sched=(--lr-schedule cosine:decay_steps=12:alpha=0.1:warmup=4)
"$tconv" train "${common[@]}" "${sched[@]}" --out "$work/a" --checkpoint-every 0 >/dev/null 2>&1
"$tconv" train "${common[@]}" "${sched[@]}" --out "$work/b" --max-steps 7 >/dev/null 2>&1
"$tconv" train "${common[@]}" --out "$work/b" --resume >/dev/null 2>&1
cmp -s "$work/a/checkpoint.npz" "$work/b/checkpoint.npz" || fail "scheduled resume differs"
echo "ok: adamw + cosine schedule resumed at step 7 ends bit-identical"
if [ -n "$mpiexec" ]; then # rank 0 reads the schedule; every rank must use it
  mpi=("$mpiexec" --allow-run-as-root --oversubscribe -np 2)
  "${mpi[@]}" "$tconv" train "${common[@]}" "${sched[@]}" --threads 1 --out "$work/m" \
    --max-steps 7 >/dev/null 2>&1
  "${mpi[@]}" "$tconv" train "${common[@]}" --threads 1 --out "$work/m" --resume >/dev/null 2>&1
  cmp -s "$work/a/checkpoint.npz" "$work/m/checkpoint.npz" || fail "2-rank scheduled resume differs"
  echo "ok: the same on 2 MPI ranks"
fi
"$tconv" train "${common[@]}" --out "$work/c" --checkpoint-every 0 >/dev/null 2>&1
if cmp -s "$work/a/checkpoint.npz" "$work/c/checkpoint.npz"; then
  fail "the schedule changed nothing"
fi
echo "ok: the schedule changes the run"

# --ema: bad decays refused; a dcgan run with --ema resumed bit-identical (the shadows come
# back from ema/...), tconv sample draws from the shadows (= the run's last samples.png),
# and those differ from the grid of the raw weights.
refused 2 "--ema" --ema 1
refused 2 "--ema" --ema -0.1
gan=(--model dcgan --synthetic --limit 320 --batch 32 --epochs 1 --sample-every 10 --threads 2 --ema 0.9)
"$tconv" train "${gan[@]}" --out "$work/e1" >/dev/null 2>&1
"$tconv" train "${gan[@]}" --out "$work/e2" --max-steps 6 >/dev/null 2>&1
"$tconv" train "${gan[@]}" --out "$work/e2" --resume >/dev/null 2>&1
cmp -s "$work/e1/checkpoint.npz" "$work/e2/checkpoint.npz" || fail "ema resume differs"
echo "ok: dcgan with --ema resumed at step 6 ends bit-identical"
"$tconv" sample "$work/e1/checkpoint.npz" --out "$work/e_again.png" >/dev/null
cmp -s "$work/e1/samples.png" "$work/e_again.png" || fail "ema sample grid differs from samples.png"
echo "ok: tconv sample uses the EMA shadows, as the run's grids did"
"$tconv" train "${gan[@]:0:${#gan[@]}-2}" --out "$work/e3" >/dev/null 2>&1
if cmp -s "$work/e1/samples.png" "$work/e3/samples.png"; then
  fail "the EMA grid equals the raw weights' grid"
fi
echo "ok: the EMA grid differs from the raw weights' grid"

# same_arrays A B: every array byte-identical except meta/train_options, the run's own
# command line (--batch, --accumulate differ here by design)
same_arrays() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, zipfile
a, b = (zipfile.ZipFile(p) for p in sys.argv[1:3])
names = sorted(n for n in a.namelist() if n != "meta/train_options.npy")
assert names == sorted(n for n in b.namelist() if n != "meta/train_options.npy")
for n in names:
    assert a.read(n) == b.read(n), n
PY
}
# --accumulate K: K micro-batches of B in S shards each are the K*S shards of one batch of
# K*B, bit for bit (both models); K = 0 and K not a power of two are refused.
refused 2 "--accumulate" --accumulate 0
refused 2 "not a power of two" --accumulate 3
ae=(--synthetic --limit 256 --epochs 1 --threads 2 --checkpoint-every 0)
"$tconv" train "${ae[@]}" --batch 16 --shards 2 --accumulate 2 --out "$work/k1" >/dev/null 2>&1
"$tconv" train "${ae[@]}" --batch 32 --shards 4 --out "$work/k2" >/dev/null 2>&1
same_arrays "$work/k1/checkpoint.npz" "$work/k2/checkpoint.npz" || fail "accumulate 2 differs"
"$tconv" train "${ae[@]}" --batch 32 --shards 2 --out "$work/k3" >/dev/null 2>&1
if same_arrays "$work/k1/checkpoint.npz" "$work/k3/checkpoint.npz" 2>/dev/null; then
  fail "accumulation equals a run with half the shards: the test cannot tell"
fi
echo "ok: autoencoder --batch 16 --shards 2 --accumulate 2 = --batch 32 --shards 4"
gan=(--model dcgan --synthetic --limit 256 --epochs 1 --sample-every 100 --threads 2 --checkpoint-every 0)
"$tconv" train "${gan[@]}" --batch 16 --shards 1 --accumulate 4 --out "$work/k4" >/dev/null 2>&1
"$tconv" train "${gan[@]}" --batch 64 --shards 4 --out "$work/k5" >/dev/null 2>&1
same_arrays "$work/k4/checkpoint.npz" "$work/k5/checkpoint.npz" || fail "dcgan accumulate 4 differs"
echo "ok: dcgan --batch 16 --accumulate 4 = --batch 64 --shards 4"

# --shards is recorded (meta/shards): a resume with other shards is refused, the same goes on
"$tconv" train "${ae[@]}" --batch 32 --shards 2 --max-steps 2 --out "$work/s1" >/dev/null 2>&1
rc=0
"$tconv" train "${ae[@]}" --batch 32 --resume --out "$work/s1" >/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -qF "was trained with --shards 2, this run has --shards 4" "$work/err" \
  || fail "resume with the default shards after --shards 2: exit $rc, $(cat "$work/err")"
"$tconv" train "${ae[@]}" --batch 32 --shards 2 --resume --out "$work/s1" >/dev/null 2>&1 \
  || fail "resume with the checkpoint's --shards 2 was refused"
echo "ok: --resume checks --shards against meta/shards"
