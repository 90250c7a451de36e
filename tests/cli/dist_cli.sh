#!/usr/bin/env bash
# dist_cli.sh TCONV MPIEXEC — `tconv train` on 2 and 4 MPI ranks (docs/distributed.md): the
# same bits as 1 rank (autoencoder and DCGAN), resume from 2 ranks on 1 and back, a killed rank
# ends the job and leaves the last good checkpoint (which resumes bit for bit), a rank that
# cannot read its data, has other images or was given other options ends the job with rank
# 0 naming it. First, without MPI, the shard counts one process refuses.
# MPIEXEC is empty when CMake found no MPI: the MPI part is then skipped (exit 77).
set -euo pipefail
tconv=$1
mpiexec=${2:-}
work=$(mktemp -d /tmp/tconv_dist_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 0. shard counts the rule cannot use: exit 2, a message naming the option, nothing written
expect_usage() { # expect_usage MESSAGE ARGS...
  local msg=$1 rc=0
  shift
  "$tconv" train --synthetic --limit 64 --epochs 1 --threads 1 --out "$work/u" "$@" \
    >"$work/u.log" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "$* gave exit status $rc, expected 2"
  grep -q "^tconv train: $msg" "$work/u.log" || { cat "$work/u.log"; fail "$*: no '$msg'"; }
  [ ! -e "$work/u" ] || fail "$*: wrote $work/u"
}
expect_usage "--shards 3 is not a power of two" --batch 12 --shards 3
expect_usage "--batch 6 is not a multiple of --shards 4" --batch 6 --shards 4
echo "ok: --shards 3 and a batch the shards do not divide are refused"
if [ -z "$mpiexec" ]; then
  # what mpirun would pass: each process refuses to train alone as "one of 2 ranks"
  rc=0
  OMPI_COMM_WORLD_SIZE=2 "$tconv" train --synthetic --epochs 1 --out "$work/n" >"$work/n.log" 2>&1 ||
    rc=$?
  [ "$rc" = 1 ] && grep -q "one of 2 MPI ranks, but this tconv was built without MPI" "$work/n.log" ||
    { cat "$work/n.log"; fail "a build without MPI under mpirun: exit status $rc"; }
  echo "ok: a build without MPI refuses to run as one of several ranks"
  echo "SKIP: tconv was built without MPI (install libopenmpi-dev openmpi-bin and reconfigure)"
  exit 77
fi
mpi=("$mpiexec" --allow-run-as-root --oversubscribe)
# A small IDX data set (256 training images, 32 test images): seconds per run, not minutes.
python3 - "$work/sets" <<'PY'
import os, struct, sys
d = sys.argv[1]
for sub, step in (("data", 7), ("other", 5)):  # "other": the same sizes, other pixels
    os.makedirs(f"{d}/{sub}")
    for split, n in (("train", 256), ("t10k", 32)):
        with open(f"{d}/{sub}/{split}-images-idx3-ubyte", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, 28, 28) +
                    bytes((i * step + i // 784) % 256 for i in range(n * 784)))
        with open(f"{d}/{sub}/{split}-labels-idx1-ubyte", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n)))
PY

two() { "${mpi[@]}" -np 2 "$tconv" train "$@"; }
ae=(--data "$work/sets/data" --batch 16 --threads 1 --checkpoint-every 0)
gan=(--model dcgan --data "$work/sets/data" --batch 16 --epochs 1 --sample-every 5 --threads 1)

# 1. autoencoder: 2 ranks end with the same checkpoint and PNG as 1 rank
"$tconv" train "${ae[@]}" --epochs 2 --out "$work/a1" >/dev/null 2>&1
two "${ae[@]}" --epochs 2 --out "$work/a2" >"$work/a2.log" 2>&1 || { cat "$work/a2.log"; fail "2 ranks"; }
cmp -s "$work/a1/checkpoint.npz" "$work/a2/checkpoint.npz" || fail "autoencoder: 2 ranks differ"
cmp -s "$work/a1/reconstructions.png" "$work/a2/reconstructions.png" || fail "autoencoder PNG"
grep -q "2 ranks, 4 shards" "$work/a2.log" || fail "rank 0 did not report 2 ranks"
[ "$(grep -c '^tconv train:' "$work/a2.log")" = 1 ] || fail "more than rank 0 printed"
echo "ok: autoencoder on 2 ranks = 1 rank, bit for bit"

# 2. dcgan: the same (batch norm on shards, latent draws, two optimizers)
"$tconv" train "${gan[@]}" --out "$work/g1" >/dev/null 2>&1
two "${gan[@]}" --out "$work/g2" >/dev/null 2>&1 || fail "dcgan on 2 ranks"
cmp -s "$work/g1/checkpoint.npz" "$work/g2/checkpoint.npz" || fail "dcgan: 2 ranks differ"
cmp -s "$work/g1/samples.png" "$work/g2/samples.png" || fail "dcgan samples.png differs"
echo "ok: dcgan on 2 ranks = 1 rank, bit for bit"

# 2b. 4 ranks (one shard each, 2 cores oversubscribed): still the same bits
"${mpi[@]}" -np 4 "$tconv" train "${ae[@]}" --epochs 2 --out "$work/a4" >/dev/null 2>&1 || fail "4 ranks"
cmp -s "$work/a1/checkpoint.npz" "$work/a4/checkpoint.npz" || fail "autoencoder: 4 ranks differ"
"${mpi[@]}" -np 4 "$tconv" train "${gan[@]}" --out "$work/g4" >/dev/null 2>&1 || fail "dcgan on 4 ranks"
cmp -s "$work/g1/checkpoint.npz" "$work/g4/checkpoint.npz" || fail "dcgan: 4 ranks differ"
echo "ok: 4 ranks = 1 rank, bit for bit (both models)"

# 3. resume with another rank count: 2 ranks then 1, and 1 rank then 2
two "${ae[@]}" --epochs 2 --out "$work/r21" --max-steps 11 >/dev/null 2>&1 || fail "2-rank part"
"$tconv" train "${ae[@]}" --epochs 2 --out "$work/r21" --resume >/dev/null 2>&1
cmp -s "$work/a1/checkpoint.npz" "$work/r21/checkpoint.npz" || fail "resume 2 -> 1 ranks differs"
"$tconv" train "${ae[@]}" --epochs 2 --out "$work/r12" --max-steps 21 >/dev/null 2>&1
two "${ae[@]}" --epochs 2 --out "$work/r12" --resume >/dev/null 2>&1 || fail "2-rank resume"
cmp -s "$work/a1/checkpoint.npz" "$work/r12/checkpoint.npz" || fail "resume 1 -> 2 ranks differs"
two "${gan[@]}" --out "$work/g21" --max-steps 7 >/dev/null 2>&1 || fail "dcgan 2-rank part"
"$tconv" train "${gan[@]}" --out "$work/g21" --resume >/dev/null 2>&1
cmp -s "$work/g1/checkpoint.npz" "$work/g21/checkpoint.npz" || fail "dcgan resume 2 -> 1 differs"
echo "ok: resumed on another rank count, bit for bit (both ways, both models)"

# 4. kill -9 one rank: the job ends non-zero, the checkpoint is the last good one and
#    resumes to the bits of an uninterrupted run
set +e
"${mpi[@]}" -np 2 "$tconv" train "${ae[@]}" --epochs 1000 --checkpoint-every 3 \
  --out "$work/k" >"$work/k.log" 2>&1 &
job=$!
for _ in $(seq 1 600); do [ -f "$work/k/checkpoint.npz" ] && break; sleep 0.05; done
victim=
for p in $(ps -o pid= --ppid "$job"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$p
done
[ -n "$victim" ] && kill -9 "$victim"
wait "$job"
rc=$?
set -e
[ -n "$victim" ] || fail "rank 1's process not found under mpirun"
[ "$rc" != 0 ] || fail "a killed rank left exit status 0"
grep -qi "signal 9\|killed" "$work/k.log" || { cat "$work/k.log"; fail "no message on the death"; }
step=$("$tconv" inspect "$work/k/checkpoint.npz" | awk '$1 == "meta/step" {print $NF}')
[ -n "$step" ] && [ $((step % 3)) = 0 ] || fail "checkpoint unreadable or off its period: '$step'"
end=$((step + 4))
"$tconv" train "${ae[@]}" --epochs 1000 --max-steps "$end" --out "$work/k" --resume >/dev/null 2>&1
"$tconv" train "${ae[@]}" --epochs 1000 --max-steps "$end" --out "$work/k1" >/dev/null 2>&1
cmp -s "$work/k/checkpoint.npz" "$work/k1/checkpoint.npz" || fail "resume after the kill differs"
echo "ok: a killed rank ended the job (rc $rc); its checkpoint (step $step) resumes bit for bit"

# 5. a rank that cannot read its data, other images or other options: rank 0 says which
base=(--batch 16 --threads 1 --epochs 1)
set +e
"${mpi[@]}" -np 1 "$tconv" train "${base[@]}" --data "$work/sets/data" --out "$work/d" : \
  -np 1 "$tconv" train "${base[@]}" --data "$work/missing" --out "$work/d" >"$work/d.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "a rank without data left exit status 0"
grep -q "^tconv train: rank 1: .*missing" "$work/d.log" || { cat "$work/d.log"; fail "rank 0 did not name rank 1"; }
[ ! -e "$work/d/checkpoint.npz" ] || fail "a checkpoint was written"
set +e
"${mpi[@]}" -np 1 "$tconv" train "${base[@]}" --data "$work/sets/data" --out "$work/i" : \
  -np 1 "$tconv" train "${base[@]}" --data "$work/sets/other" --out "$work/i" >"$work/i.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "ranks with other images: exit status $rc, expected 2"
grep -q "^tconv train: the training images differ between ranks: rank 1" "$work/i.log" ||
  { cat "$work/i.log"; fail "no message on other images"; }
[ ! -e "$work/i" ] || fail "ranks with other images wrote $work/i"
set +e
"${mpi[@]}" -np 1 "$tconv" train "${ae[@]}" --epochs 1 --out "$work/o" : \
  -np 1 "$tconv" train "${ae[@]}" --epochs 2 --out "$work/o" >"$work/o.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "mismatched options: exit status $rc, expected 2"
grep -q "^tconv train: the options differ between ranks: rank 1" "$work/o.log" || { cat "$work/o.log"; fail "no mismatch message"; }
rc=0
two "${ae[@]}" --epochs 1 --shards 1 --out "$work/s" >"$work/s.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "2 ranks and 1 shard: exit status $rc, expected 2"
grep -q "2 ranks do not divide --shards 1" "$work/s.log" || { cat "$work/s.log"; fail "shard message"; }
echo "ok: missing data, other images, other options and too few shards end the job, rank 0 naming why"
echo "dist_cli: 7 passed, 0 failed"
