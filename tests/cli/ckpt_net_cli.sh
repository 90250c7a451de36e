#!/usr/bin/env bash
# ckpt_net_cli.sh TCONV — self-describing checkpoints (docs/checkpoints.md): numpy reads the
# network description as text; `tconv sample` rebuilds the network from the checkpoint alone
# (the same PNG with and without the --activation it was trained with; a contradicting one is
# an error); `tconv train --resume` takes the network from the checkpoint (a dcgan resumed
# without --model ends bit-identical to a straight run); a checkpoint without meta/net (an
# older writer's) still samples by its keys.
set -euo pipefail
tconv=$1
work=$(mktemp -d /tmp/tconv_ckn_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
short=(--synthetic --limit 320 --batch 32 --epochs 1 --threads 2)

# 1. the bar check: --activation elu, then sample with and without it
"$tconv" train "${short[@]}" --max-steps 4 --activation elu --out "$work/e" >/dev/null 2>&1
"$tconv" sample "$work/e/checkpoint.npz" --out "$work/a.png" >/dev/null
"$tconv" sample "$work/e/checkpoint.npz" --out "$work/b.png" --activation elu >/dev/null
cmp -s "$work/a.png" "$work/b.png" || fail "sample differs with --activation elu"
rc=0
"$tconv" sample "$work/e/checkpoint.npz" --out "$work/c.png" --activation relu 2>"$work/err" \
  >/dev/null || rc=$?
[ "$rc" != 0 ] || fail "a contradicting --activation was accepted"
grep -qF "trained with --activation elu" "$work/err" || fail "message: $(cat "$work/err")"
[ ! -e "$work/c.png" ] || fail "a PNG was written despite the contradiction"
echo "ok: sample rebuilds an elu checkpoint with and without --activation elu; relu refused"

# 2. numpy reads the description and the options as text
/usr/bin/python3 - "$work/e/checkpoint.npz" <<'PY'
import sys
import numpy as np
z = np.load(sys.argv[1])
for k in ("meta/net", "meta/net_source", "meta/net_vars", "meta/train_options", "meta/layers"):
    assert z[k].dtype == np.uint8 and z[k].ndim == 1, k
net = bytes(z["meta/net"]).decode()
assert "conv2d_transpose decoder_up1 decoder_grid" in net and "activation=elu" in net, net
assert "activation=elu" in bytes(z["meta/net_vars"]).decode()
assert "batch=32" in bytes(z["meta/train_options"]).decode()
layers = bytes(z["meta/layers"]).decode()
assert "conv2d_transpose decoder_up1 decoder_grid filters=16 kernel_size=4 strides=2 padding=same data_format=channels_last dilation_rate=1,1 groups=1 activation=elu use_bias=true" in layers, layers
PY
echo "ok: numpy reads meta/net, meta/net_source, meta/net_vars, meta/train_options, meta/layers"

# 3. --resume without --model: the dcgan comes from the checkpoint, bit for bit
gan=(--synthetic --limit 320 --batch 32 --epochs 1 --threads 2 --sample-every 3)
"$tconv" train "${gan[@]}" --model dcgan --activation elu --out "$work/g1" >/dev/null 2>&1
"$tconv" train "${gan[@]}" --model dcgan --activation elu --out "$work/g2" --max-steps 4 \
  >/dev/null 2>&1
"$tconv" train "${gan[@]}" --out "$work/g2" --resume >/dev/null 2>&1
cmp -s "$work/g1/checkpoint.npz" "$work/g2/checkpoint.npz" || fail "resume from the checkpoint differs"
rc=0
"$tconv" train "${gan[@]}" --out "$work/g2" --resume --activation relu >/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -qF "contradicts checkpoint" "$work/err" || fail "resume relu: $rc $(cat "$work/err")"
rc=0
"$tconv" train "${gan[@]}" --out "$work/g2" --resume --net "$(dirname "$0")/../../examples/nets/unet.net" \
  >/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -qF "builds another network than the one checkpoint" "$work/err" \
  || fail "resume with another --net: $rc $(cat "$work/err")"
rc=0
"$tconv" train "${gan[@]}" --out "$work/g2" --resume --model autoencoder >/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -qF -- "--model autoencoder builds another network than the one checkpoint" \
  "$work/err" || fail "resume with another --model: $rc $(cat "$work/err")"
"$tconv" train "${gan[@]}" --model dcgan --activation elu --out "$work/g3" --max-steps 4 \
  >/dev/null 2>&1
"$tconv" train "${gan[@]}" --model dcgan --activation elu --out "$work/g3" --resume >/dev/null 2>&1 \
  || fail "resume with the checkpoint's own --model was refused"
cmp -s "$work/g1/checkpoint.npz" "$work/g3/checkpoint.npz" || fail "resume with --model dcgan differs"
echo "ok: --resume rebuilds the dcgan from its checkpoint; a contradicting option, file or model refused"

# 4. an older checkpoint (no meta/net...): sample still works by its keys
/usr/bin/python3 - "$work/e/checkpoint.npz" "$work/old.npz" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        if not info.filename.startswith("meta/net") and "train_options" not in info.filename:
            dst.writestr(info.filename, src.read(info.filename))
PY
"$tconv" sample "$work/old.npz" --out "$work/old.png" --activation elu >/dev/null
cmp -s "$work/a.png" "$work/old.png" || fail "an older checkpoint samples differently"
echo "ok: a checkpoint without meta/net samples by its keys"
