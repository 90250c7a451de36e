#!/usr/bin/env bash
# train_cli.sh TCONV — end-to-end checks of `tconv train` and `tconv sample` on the built-in
# synthetic set: an interrupted and resumed run ends bit-identical to a straight one (both
# models, also from --max-steps 0's initial weights), Ctrl-C saves a loadable checkpoint
# and exits 130, numpy reads the checkpoint's keys and shapes, `tconv sample` regenerates the run's last sample grid, and 1 and 2
# threads train the same bits.
set -euo pipefail
tconv=$1
work=$(mktemp -d /tmp/tconv_cli_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--synthetic --limit 640 --batch 32 --epochs 2 --threads 2)

# 1. autoencoder: straight vs stopped at step 13 and resumed
"$tconv" train "${common[@]}" --out "$work/a" --checkpoint-every 0 >/dev/null 2>&1
"$tconv" train "${common[@]}" --out "$work/b" --max-steps 13 >/dev/null 2>&1
"$tconv" train "${common[@]}" --out "$work/b" --resume >/dev/null 2>&1
cmp -s "$work/a/checkpoint.npz" "$work/b/checkpoint.npz" || fail "autoencoder resume differs"
echo "ok: autoencoder resumed at step 13 ends bit-identical"

# 2. dcgan: the same, including its latent generator's state
gan=(--model dcgan --synthetic --limit 640 --batch 32 --epochs 1 --sample-every 7 --threads 2)
"$tconv" train "${gan[@]}" --out "$work/g1" >/dev/null 2>&1
"$tconv" train "${gan[@]}" --out "$work/g2" --max-steps 9 >/dev/null 2>&1
"$tconv" train "${gan[@]}" --out "$work/g2" --resume >/dev/null 2>&1
cmp -s "$work/g1/checkpoint.npz" "$work/g2/checkpoint.npz" || fail "dcgan resume differs"
echo "ok: dcgan resumed at step 9 ends bit-identical"

# 2b. --max-steps 0 saves the initial weights (optimizer slots at their initial values),
# and a run resumed from them ends as the straight one (both models)
"$tconv" train "${common[@]}" --out "$work/z" --max-steps 0 >/dev/null 2>&1 || fail "max-steps 0"
"$tconv" train "${common[@]}" --out "$work/z" --resume >/dev/null 2>&1 || fail "resume at step 0"
cmp -s "$work/a/checkpoint.npz" "$work/z/checkpoint.npz" || fail "autoencoder from step 0 differs"
"$tconv" train "${gan[@]}" --out "$work/gz" --max-steps 0 >/dev/null 2>&1 || fail "gan max-steps 0"
"$tconv" train "${gan[@]}" --out "$work/gz" --resume >/dev/null 2>&1 || fail "gan resume at 0"
cmp -s "$work/g1/checkpoint.npz" "$work/gz/checkpoint.npz" || fail "dcgan from step 0 differs"
echo "ok: --max-steps 0 saves the initial weights; resumed from them, both models end the same"

# 3. tconv sample regenerates the last grid of the run
"$tconv" sample "$work/g1/checkpoint.npz" --out "$work/again.png" >/dev/null
cmp -s "$work/g1/samples.png" "$work/again.png" || fail "sample grid differs from samples.png"
echo "ok: tconv sample regenerates samples.png"

# 4. Ctrl-C: a checkpoint that loads, exit status 130, and --resume finishes the run
set +e
"$tconv" train "${common[@]}" --epochs 200 --checkpoint-every 5 --out "$work/c" >/dev/null 2>&1 &
pid=$!
# The first periodic checkpoint proves the loop (and its signal handler) is running.
for _ in $(seq 1 600); do [ -f "$work/c/checkpoint.npz" ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
rc=$?
set -e
[ "$rc" = 130 ] || fail "Ctrl-C exit status $rc, expected 130"
"$tconv" inspect "$work/c/checkpoint.npz" | grep -q "meta/step" || fail "interrupted checkpoint unreadable"
ls "$work/c" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
echo "ok: Ctrl-C saved a valid checkpoint and exited 130"

# 5. numpy reads the checkpoint with the expected keys, dtypes and shapes
/usr/bin/python3 - "$work/a/checkpoint.npz" <<'PY'
import sys
import numpy as np
f = np.load(sys.argv[1])
expect = {
    "encoder_conv1/kernel": (3, 3, 1, 16), "encoder_conv2/kernel": (3, 3, 16, 32),
    "encoder_latent/kernel": (1568, 32), "decoder_dense/kernel": (32, 1568),
    "decoder_up1/kernel": (4, 4, 16, 32), "decoder_up1/bias": (16,),
    "decoder_up2/kernel": (4, 4, 1, 16), "optimizer/decoder_up1/kernel/m": (4, 4, 16, 32),
}
for key, shape in expect.items():
    assert f[key].shape == shape and f[key].dtype == np.float32, (key, f[key].shape)
assert int(f["meta/step"]) == 40 and f["meta/step"].dtype == np.int64
PY
echo "ok: numpy reads the keys and shapes"
# 6. the same seed gives the same bits on 1 and 2 threads (DESIGN: determinism)
"$tconv" train "${common[@]}" --threads 1 --out "$work/t1" --checkpoint-every 0 >/dev/null 2>&1
cmp -s "$work/a/checkpoint.npz" "$work/t1/checkpoint.npz" || fail "1 and 2 threads differ"
"$tconv" train "${gan[@]}" --threads 1 --out "$work/g3" >/dev/null 2>&1
cmp -s "$work/g1/checkpoint.npz" "$work/g3/checkpoint.npz" || fail "dcgan: 1 and 2 threads differ"
echo "ok: 1 and 2 threads train bit-identical weights"
echo "train_cli: 6 passed, 0 failed"
