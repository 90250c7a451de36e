#!/usr/bin/env bash
# data_cli.sh TCONV SRC — image-to-image training (docs/data.md): --pairs sr:2 with
# examples/nets/fsrcnn.net and --pairs noise with unet.net on the synthetic set, PNG folders
# and paired folders made here, the baselines, OUT/results.png, --resume bit for bit with
# pairs, pix2pix.net on paired RGB folders, `tconv sample` after a paired run, and the bad
# inputs refused (exit 2, the file named) before training.
set -euo pipefail
tconv=$1
nets=$2/examples/nets
work=$(mktemp -d /tmp/tconv_data_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3

# pngs DIR N H W C [SEED]: N PNGs img000.png.. of H x W (C = 1 grey, 3 RGB), written with
# zlib alone (no imaging library needed); pixel values from a seeded LCG
pngs() {
  "$py" - "$@" <<'PY'
import os, struct, sys, zlib
d, n, h, w, c = sys.argv[1], *map(int, sys.argv[2:6])
seed = int(sys.argv[6]) if len(sys.argv) > 6 else 1
os.makedirs(d, exist_ok=True)
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
s = seed
for i in range(n):
    rows = b""
    for y in range(h):
        row = bytearray()
        for x in range(w * c):
            s = (s * 1103515245 + 12345) & 0x7fffffff
            row.append((s >> 16) & 255)
        rows += b"\0" + bytes(row)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0 if c == 1 else 2, 0, 0, 0)
    with open(os.path.join(d, "img%03d.png" % i), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
}
# png_size FILE: "HEIGHT WIDTH COLOURTYPE" from the IHDR
png_size() {
  "$py" -c 'import struct,sys; b=open(sys.argv[1],"rb").read(26); w,h=struct.unpack(">II",b[16:24]); print(h, w, b[25])' "$1"
}
short=(--synthetic --limit 320 --batch 32 --threads 2 --checkpoint-every 0)

# 1. --pairs sr:2 trains fsrcnn.net (14x14 in, 28x28 out): baseline once, per-epoch lines
"$tconv" train "${short[@]}" --epochs 2 --net "$nets/fsrcnn.net" --pairs sr:2 \
  --out "$work/sr" >"$work/sr.log" 2>&1 || fail "sr:2: $(tail -3 "$work/sr.log")"
[ "$(grep -c '^bicubic x2 baseline: test PSNR [0-9.]* dB$' "$work/sr.log")" = 1 ] ||
  fail "sr:2: no single baseline line: $(cat "$work/sr.log")"
grep -q '^epoch 2: test mse [0-9.]*, psnr [0-9.]* dB$' "$work/sr.log" || fail "sr:2: epoch line"
[ "$(png_size "$work/sr/results.png")" = "175 233 0" ] || fail "sr:2: results.png is $(png_size "$work/sr/results.png")"
[ ! -e "$work/sr/reconstructions.png" ] || fail "sr:2 wrote reconstructions.png"
echo "ok: --pairs sr:2 trains fsrcnn.net; $(grep baseline "$work/sr.log"); $(grep '^epoch 2:' "$work/sr.log")"

# 2. --pairs noise:0.2 trains unet.net; the noisy inputs' PSNR is 10 log10(1/0.04) = 13.98
"$tconv" train "${short[@]}" --epochs 1 --net "$nets/unet.net" --pairs noise:0.2 \
  --out "$work/nz" >"$work/nz.log" 2>&1 || fail "noise: $(tail -3 "$work/nz.log")"
grep -qE '^noisy input: test PSNR 13\.9[6-9] dB$' "$work/nz.log" ||
  fail "noise: $(grep noisy "$work/nz.log")"
grep -q '^epoch 1: test mse' "$work/nz.log" || fail "noise: epoch line"
echo "ok: --pairs noise:0.2 trains unet.net; $(grep noisy "$work/nz.log")"

# 3. --resume continues bit for bit with the checkpoint's pairs (not given again)
"$tconv" train "${short[@]}" --epochs 2 --net "$nets/unet.net" --pairs noise:0.2 \
  --max-steps 13 --out "$work/nz2" >/dev/null 2>&1
# (--net again: meta/train_options names the file it came from)
"$tconv" train "${short[@]}" --epochs 2 --net "$nets/unet.net" --resume --out "$work/nz2" \
  >/dev/null 2>&1 ||
  fail "resume without --pairs"
"$tconv" train "${short[@]}" --epochs 2 --net "$nets/unet.net" --pairs noise:0.2 \
  --out "$work/nz3" >/dev/null 2>&1
cmp -s "$work/nz2/checkpoint.npz" "$work/nz3/checkpoint.npz" || fail "resume with pairs differs"
cmp -s "$work/nz2/results.png" "$work/nz3/results.png" || fail "resumed results.png differs"
rc=0
"$tconv" train "${short[@]}" --epochs 3 --resume --pairs sr:2 --out "$work/nz2" \
  >/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -qF -- "--pairs sr:2 contradicts checkpoint" "$work/err" ||
  fail "resume with other pairs: exit $rc: $(cat "$work/err")"
echo "ok: --resume with pairs is bit for bit; other --pairs are refused"

# 4. tconv sample still works on a denoising autoencoder's checkpoint
"$tconv" train "${short[@]}" --epochs 1 --max-steps 3 --pairs noise:0.1 --out "$work/ae" \
  >/dev/null 2>&1 || fail "autoencoder with pairs"
"$tconv" sample "$work/ae/checkpoint.npz" --out "$work/ae/s.png" >/dev/null 2>&1 || fail "sample"
[ "$(png_size "$work/ae/s.png")" = "233 233 0" ] || fail "sample grid size"
echo "ok: tconv sample after a paired run"

# 5. PNG folders: RGB, sub-folders; paired folders (14x14 -> 28x28); the baseline by PyTorch
pngs "$work/rgb/train" 24 28 28 3 5
pngs "$work/rgb/test" 8 28 28 3 6
cat >"$work/sr3.net" <<'NET'
input low shape=14,14,3
conv2d feature low filters=8 kernel_size=3 padding=same activation=relu
conv2d_transpose high feature filters=3 kernel_size=4 strides=2 padding=same
output high
loss mse output=high
NET
"$tconv" train --data "$work/rgb" --batch 8 --epochs 1 --threads 2 --net "$work/sr3.net" \
  --pairs sr:2 --out "$work/c" >"$work/c.log" 2>&1 || fail "rgb: $(tail -3 "$work/c.log")"
grep -q "on 24 training images from $work/rgb/train" "$work/c.log" || fail "rgb: banner"
[ "$(png_size "$work/c/results.png")" = "88 233 2" ] || fail "rgb: results.png $(png_size "$work/c/results.png")"
if "$py" -c 'import torch' 2>/dev/null; then
  want=$("$py" - "$work/rgb/test" <<'PY'
import glob, struct, sys, zlib, torch, torch.nn.functional as F
def read(p):  # the files pngs() wrote: 8-bit RGB, filter 0 on every row
    b, i, idat = open(p, "rb").read(), 8, b""
    while i < len(b):
        n = struct.unpack(">I", b[i:i + 4])[0]
        if b[i + 4:i + 8] == b"IDAT":
            idat += b[i + 8:i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    rows = [list(raw[y * 85 + 1:(y + 1) * 85]) for y in range(28)]
    return torch.tensor(rows, dtype=torch.float32).reshape(28, 28, 3)
imgs = [read(p) for p in sorted(glob.glob(sys.argv[1] + "/*.png"))]
x = (torch.stack(imgs) / 255).permute(0, 3, 1, 2)
up = F.interpolate(F.avg_pool2d(x, 2), size=(28, 28), mode="bicubic", align_corners=False)
print("%.2f" % (10 * torch.log10(1 / ((up.double() - x.double()) ** 2).mean())).item())
PY
)
  grep -qF "bicubic x2 baseline: test PSNR $want dB" "$work/c.log" ||
    fail "baseline $(grep baseline "$work/c.log"), PyTorch says $want"
  echo "ok: RGB PNG folder; the bicubic baseline is PyTorch's ($want dB)"
fi
pngs "$work/lo" 10 14 14 1 7
pngs "$work/hi" 10 28 28 1 8
"$tconv" train --data "$work/lo" --targets "$work/hi" --batch 3 --epochs 1 --threads 2 \
  --net "$nets/fsrcnn.net" --out "$work/p" >"$work/p.log" 2>&1 || fail "paired: $(tail -3 "$work/p.log")"
grep -q "on 9 training images" "$work/p.log" && grep -q '^epoch 1: test mse' "$work/p.log" ||
  fail "paired: $(cat "$work/p.log")"
[ -f "$work/p/results.png" ] || fail "paired: results.png"
echo "ok: paired folders train fsrcnn.net (9 training pairs, 1 test pair)"
pngs "$work/p2p_in" 10 32 32 3 11
pngs "$work/p2p_out" 10 32 32 3 12
"$tconv" train --data "$work/p2p_in" --targets "$work/p2p_out" --batch 3 --epochs 1 --threads 2 \
  --net "$nets/pix2pix.net" --out "$work/p2p" >"$work/p2p.log" 2>&1 ||
  fail "pix2pix: $(tail -3 "$work/p2p.log")"
grep -q '^epoch 1: test mse' "$work/p2p.log" && [ -f "$work/p2p/checkpoint.npz" ] ||
  fail "pix2pix: $(cat "$work/p2p.log")"
echo "ok: paired 32x32 RGB folders train pix2pix.net"

# 6. refused before training: exit 2, the message names the file or value
refused() { # WANT ARGS...
  local want=$1 rc=0
  shift
  "$tconv" train --batch 3 --epochs 1 --threads 2 --out "$work/bad" "$@" >/dev/null \
    2>"$work/err" || rc=$?
  [ "$rc" = 2 ] || fail "$*: exit $rc, expected 2: $(cat "$work/err")"
  grep -qF -- "$want" "$work/err" || fail "$*: stderr lacks '$want': $(cat "$work/err")"
  [ ! -e "$work/bad/checkpoint.npz" ] || fail "$*: wrote a checkpoint"
}
refused "--pairs 'sr:4': the super-resolution scale must be 2 or 3" --synthetic --pairs sr:4
refused "--pairs 'noise:-1'" --synthetic --pairs noise:-1
refused "--pairs 'noise:nan'" --synthetic --pairs noise:nan
refused "images of synthetic (seed 1) are 28x28, not divisible by 3; --image-size 27x27" \
  --synthetic --net "$nets/fsrcnn.net" --pairs sr:3
refused "fsrcnn.net: input node 'low' is 14x14x1, but the inputs from $work/rgb/train are 14x14x3" \
  --data "$work/rgb" --net "$nets/fsrcnn.net" --pairs sr:2
refused "--targets (paired folders) and --pairs" --data "$work/lo" --targets "$work/hi" --pairs sr:2
refused "--image-size '12': expected HxW" --synthetic --image-size 12
refused "--targets DIR pairs each --data IN_DIR/NAME.png with DIR/NAME.png: give --data" \
  --synthetic --targets "$work/hi"
refused "--targets folder '$work/none'" --data "$work/lo" --targets "$work/none"
refused "not a gan" --synthetic --model dcgan --pairs sr:2
refused "holds IDX files (or is missing)" --data "$work/none" --targets "$work/hi"
refused "are colour (3 channels); the gan loop trains on grey images" --model dcgan --data "$work/rgb"
rm "$work/hi/img004.png"
refused "input '$work/lo/img004.png' has no partner" --data "$work/lo" --targets "$work/hi" \
  --net "$nets/fsrcnn.net"
pngs "$work/hi" 10 28 28 1 8
pngs "$work/hi" 1 28 26 1 9 # img000.png now 28x26
refused "file '$work/hi/img001.png' is 28x28 but '$work/hi/img000.png' is 28x26" \
  --data "$work/lo" --targets "$work/hi" --net "$nets/fsrcnn.net"
head -c 100 "$work/rgb/train/img003.png" >"$work/cut.png" && mv "$work/cut.png" "$work/rgb/train/img003.png"
refused "file '$work/rgb/train/img003.png': bad or truncated PNG" --data "$work/rgb" \
  --net "$work/sr3.net" --pairs sr:2
echo "ok: bad --pairs values, sizes, partners, PNGs and shapes are refused with exit 2"
