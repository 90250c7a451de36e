#!/usr/bin/env bash
# profile_cli.sh TCONV SRC — `tconv train --profile[=FILE]` (docs/training.md): the table's
# rows (ops per layer, data, optimizer, checkpoint, PNG, evaluation, other) add up to its
# wall time, which is the run's; the JSON file parses and says the same; --model
# autoencoder, --model dcgan and --net files all profile per layer; profiling changes no
# bit of the checkpoint; a bad --profile is refused before training, exit 2.
set -euo pipefail
tconv=$1
nets=$2/examples/nets
work=$(mktemp -d /tmp/tconv_profile_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
short=(--synthetic --limit 256 --batch 32 --epochs 1 --threads 2)

# check_table LOG OUTER_SECONDS ROW...: the table's rows sum to its wall, which is at most
# the run's wall seen from outside and not far below it; the named "section op" rows exist.
check_table() {
  local log=$1 outer=$2; shift 2
  grep -q '^profile: ' "$log" || fail "$log: no profile table"
  for row in "$@"; do
    grep -Eq "^  $row " "$log" || fail "$log: no row '$row'"
  done
  /usr/bin/python3 - "$log" "$outer" <<'PY' || fail "$log: the rows do not add up"
import sys
lines = open(sys.argv[1]).read().split("\n")
outer = float(sys.argv[2])
cats = ["data load", "data", "optimizer", "checkpoint", "png", "evaluation",
        "other in steps (shard sums, glue)", "other (setup, progress, ...)"]
i = next(k for k, l in enumerate(lines) if l.startswith("profile: "))
total, wall, n_ops, seen = 0.0, None, 0, set()
for l in lines[i + 2:]:
    if l.startswith("  total (wall)"):
        wall = float(l.split()[2])
        break
    name = next((c for c in cats if l.startswith("  " + c + "  ")), None)
    if name:
        seen.add(name)
        total += float(l[2 + len(name):].split()[0])
    else:
        total += float(l.split()[-4])  # section op forward backward TOTAL % %step calls
        n_ops += 1
assert wall and n_ops > 0 and seen == set(cats), (wall, n_ops, seen)
assert abs(total - wall) < 0.002 + 1e-4 * n_ops, f"rows sum to {total}, wall {wall}"
assert 0.5 * outer <= wall <= outer + 0.05, f"wall {wall}, outside {outer}"
PY

}

# run NAME ARGS...: one profiled training; its stdout in $work/NAME.log, seconds in $secs
run() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$tconv" train "${short[@]}" "$@" --out "$work/$name" >"$work/$name.log" 2>/dev/null \
    || fail "$name: exit $?"
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc)
}

# 1. the autoencoder: the table, and the JSON file agreeing with it
run ae --model autoencoder --profile="$work/ae.json"
check_table "$work/ae.log" "$secs" "encoder_conv1 +conv2d" "decoder_up1 +conv2d_transpose" \
  "decoder_up2 +sigmoid" "- +mse" "data load" "data" "optimizer" "checkpoint" "png" \
  "evaluation" "other in steps"
/usr/bin/python3 - "$work/ae.json" "$work/ae.log" <<'PY' || fail "ae.json"
import json, sys
p = json.load(open(sys.argv[1]))
ops = sum(r["forward_s"] + r["backward_s"] for r in p["ops"])
cats = sum(p["categories"].values())
assert 0 < p["steps_s"] < p["wall_s"]
assert abs(ops + cats - p["wall_s"]) < 1e-6 * max(1.0, p["wall_s"]), (ops, cats, p["wall_s"])
assert p["images"] == 256 and p["images_per_s"] > 0
assert {"data_load", "data", "optimizer", "checkpoint", "png", "evaluation", "other_in_steps",
        "other"} == set(p["categories"])
rows = {(r["section"], r["op"]) for r in p["ops"]}
assert ("decoder_up1", "conv2d_transpose") in rows and ("encoder_conv2", "conv2d") in rows, rows
assert all(r["calls"] > 0 and r["forward_s"] >= 0 and r["backward_s"] >= 0 for r in p["ops"])
assert 0 < p["conv_fraction"] < p["conv_fraction_of_steps"] < 1
log = open(sys.argv[2]).read()
assert f'{p["wall_s"]:.3f} s wall' in log, "the table and the file disagree on the wall time"
PY
echo "ok: autoencoder table adds up to the wall time; JSON file valid"

# 2. the DCGAN and a --net file, per layer
run gan --model dcgan --sample-every 4 --profile
check_table "$work/gan.log" "$secs" "generator_up1 +conv2d_transpose" "generator_bn1 +batch_norm" \
  "discriminator_conv1 +conv2d" "discriminator_conv1 +leaky_relu" "- +bce_with_logits" "png"
run net --net "$nets/autoencoder.net" --profile
check_table "$work/net.log" "$secs" "decoder_up2 +conv2d_transpose" "encoder_latent +matmul"
echo "ok: dcgan and --net profile per layer"

# 3. profiling changes no bit of the training
run plain --model autoencoder
/usr/bin/python3 - "$work/ae/checkpoint.npz" "$work/plain/checkpoint.npz" <<'PY' \
  || fail "--profile changed the checkpoint"
import sys, zipfile
a, b = (zipfile.ZipFile(p) for p in sys.argv[1:3])
names = sorted(n for n in a.namelist() if n != "meta/train_options.npy")
assert names == sorted(n for n in b.namelist() if n != "meta/train_options.npy")
for n in names:
    assert a.read(n) == b.read(n), n
PY
grep -q '^profile: ' "$work/plain.log" && fail "a table without --profile"
echo "ok: --profile leaves the checkpoint's bits alone"

# 4. bad --profile: refused before training, exit 2, nothing written
set +e
"$tconv" train "${short[@]}" --profile= --out "$work/bad1" >/dev/null 2>"$work/bad1.err"
rc1=$?
"$tconv" train "${short[@]}" --profile="$work/no/such/dir/p.json" --out "$work/bad2" \
  >/dev/null 2>"$work/bad2.err"
rc2=$?
set -e
[ "$rc1" -eq 2 ] && grep -q "file name after '='" "$work/bad1.err" || fail "--profile=: rc $rc1"
[ "$rc2" -eq 2 ] && grep -q "no/such/dir/p.json" "$work/bad2.err" || fail "unwritable: rc $rc2"
[ ! -e "$work/bad1" ] && [ ! -e "$work/bad2" ] || fail "a refused run wrote its output directory"
echo "ok: a bad --profile is refused, exit 2"
