#!/usr/bin/env bash
# net_cli.sh TCONV SRC — `tconv train --net FILE` (docs/networks.md): the shipped files
# train to the same bits as the --model names they stand for; a U-Net description trains
# from its file; a bad file or a layer option the file has no variable for is refused
# before training with the file's line and column, exit 2.
set -euo pipefail
tconv=$1
nets=$2/examples/nets
work=$(mktemp -d /tmp/tconv_net_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# same_arrays A B: every array byte-identical except meta/train_options (its net= line
# names the file, or "(shipped)")
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
short=(--synthetic --limit 320 --batch 32 --epochs 1 --threads 2 --max-steps 6)

# 1. --model NAME and --net examples/nets/NAME.net: identical checkpoints (and PNGs)
"$tconv" train "${short[@]}" --model autoencoder --out "$work/m1" >/dev/null 2>&1
"$tconv" train "${short[@]}" --net "$nets/autoencoder.net" --out "$work/n1" >/dev/null 2>&1
same_arrays "$work/m1/checkpoint.npz" "$work/n1/checkpoint.npz" || fail "autoencoder: --net differs"
"$tconv" train "${short[@]}" --model dcgan --sample-every 3 --out "$work/m2" >/dev/null 2>&1
"$tconv" train "${short[@]}" --net "$nets/dcgan.net" --sample-every 3 --out "$work/n2" \
  >/dev/null 2>&1
same_arrays "$work/m2/checkpoint.npz" "$work/n2/checkpoint.npz" || fail "dcgan: --net differs"
cmp -s "$work/m2/samples.png" "$work/n2/samples.png" || fail "dcgan: samples.png differs"
echo "ok: --net examples/nets/{autoencoder,dcgan}.net trains the --model bits"

# 2. layer options set the file's variables: the same as --model with them
opt=(--activation elu --kernel-initializer he_normal --kernel-regularizer l2:0.001)
"$tconv" train "${short[@]}" "${opt[@]}" --model autoencoder --out "$work/m3" >/dev/null 2>&1
"$tconv" train "${short[@]}" "${opt[@]}" --net "$nets/autoencoder.net" --out "$work/n3" \
  >/dev/null 2>&1
same_arrays "$work/m3/checkpoint.npz" "$work/n3/checkpoint.npz" || fail "options: --net differs"
same_arrays "$work/m1/checkpoint.npz" "$work/m3/checkpoint.npz" 2>/dev/null && fail "options changed nothing"
echo "ok: layer options reach the file's variables"

# 3. the U-Net trains from its file (mae on the reconstruction of its input), loss falls
"$tconv" train --synthetic --limit 640 --batch 32 --epochs 1 --threads 2 \
  --net "$nets/unet.net" --out "$work/u" >"$work/u.log" 2>&1 || fail "unet: $(tail -3 "$work/u.log")"
[ -f "$work/u/checkpoint.npz" ] || fail "unet: no checkpoint"
grep -q "unet.net on 640 training images" "$work/u.log" || fail "unet: banner"
echo "ok: unet.net trains"

# 4. refused before training, exit 2, with place and expectation
refused() { # WANT ARGS...: exit 2, WANT on stderr, nothing written
  local want=$1 rc=0
  shift
  "$tconv" train "${short[@]}" --out "$work/bad" "$@" >/dev/null 2>"$work/err" || rc=$?
  [ "$rc" = 2 ] || fail "$*: exit $rc, expected 2"
  grep -qF -- "$want" "$work/err" || fail "$*: stderr lacks '$want': $(cat "$work/err")"
  [ ! -e "$work/bad/checkpoint.npz" ] || fail "$*: wrote a checkpoint"
}
printf 'input x shape=28,28,1\nconv2d c x filters=0 kernel_size=3\noutput c\nloss mse\n' \
  >"$work/bad.net"
refused "bad.net:2:20: filters: expected an integer in [1, 65536], got 0" --net "$work/bad.net"
printf 'input x shape=28,28,1\nconv2d c x filters=1 kernel_size=3 padding=same\noutput c\n' \
  >"$work/noloss.net"
refused "noloss.net: tconv train needs a loss line" --net "$work/noloss.net"
printf 'input x shape=28,28,1\nconv2d c x filters=1 kernel_size=3 padding=same\noutput c\nloss mse\n' \
  >"$work/novar.net"
refused "variable 'activation' is set, but the description declares no var activation" \
  --net "$work/novar.net" --activation elu
refused "network file '$work/none.net': No such file" --net "$work/none.net"
rc=0
"$tconv" train "${short[@]}" --out "$work/fs" --net "$nets/fsrcnn.net" >/dev/null 2>"$work/err" || rc=$?
[ "$rc" != 0 ] && grep -qF "node 'low' is not 28x28x1 like the training images" "$work/err" \
  || fail "fsrcnn on 28x28 data: exit $rc, $(cat "$work/err")"
echo "ok: bad files, a missing loss, an undeclared variable, wrong sizes refused"
