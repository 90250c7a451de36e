"""The training loop of the PyTorch twins of `tconv train --net FILE --pairs KIND:ARG`
(tools/reference/fsrcnn_torch.py, unet_denoise_torch.py): Fashion-MNIST targets, inputs
made from them as tconv makes them, the net read from the same file (netfile_torch.py),
Adam with tconv's defaults (lr 1e-3, betas 0.9/0.999, epsilon 1e-8 in TF's "epsilon hat"
form, TFAdam below), batch 64, steps = n // batch per epoch, a fresh shuffle each epoch,
and the test set scored against its targets after each epoch.

- sr:S     input = the target downscaled by S with the box filter (mean of SxS blocks);
           baseline: bicubic upscaling (F.interpolate, a = -0.75, align_corners=False).
- noise:SIGMA  input = target + N(0, SIGMA^2), not clipped, drawn afresh for every
           training batch; the test set's noise is drawn once; baseline: the noisy input.

By default the twin draws its own initialization, shuffles and noise (PyTorch's streams):
the comparison is then statistical (same distribution, same amount of data), and one seed's
PSNR differs from another's by a few tenths of a dB at a few epochs. With --init CKPT (the
initial weights `tconv train --max-steps 0` saves) and --tconv-streams (tconv's shuffle and
noise, tconv_streams.py) it trains on exactly what tconv trains on, from the same start: the
two runs then differ only by floating-point rounding.
Needs Debian's python3-torch and python3-numpy (tools/compare-torch-jobs.sh installs them)."""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

from netfile_torch import Net, psnr
import tconv_streams

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx_images(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, n, h, w = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803, f"{path}: bad magic {magic:#x}"
        data = np.frombuffer(f.read(n * h * w), dtype=np.uint8)
    return data.reshape(n, 1, h, w).astype(np.float32) / 255.0


def load(data_dir, split):
    stem = "train" if split == "train" else "t10k"
    for suffix in ("", ".gz"):
        path = os.path.join(data_dir, f"{stem}-images-idx3-ubyte{suffix}")
        if os.path.exists(path):
            return torch.from_numpy(read_idx_images(path))
    raise FileNotFoundError(f"no {stem} images in {data_dir}")


class Pairs:
    """Inputs for targets: fixed (sr) or drawn per batch (noise, with a fixed test draw)."""

    def __init__(self, spec, seed, tconv_streams=False):
        self.kind, arg = spec.split(":", 1)
        self.seed, self.tconv_streams = seed, tconv_streams
        if self.kind == "sr":
            self.scale = int(arg)
        elif self.kind == "noise":
            self.sigma = float(arg)
        else:
            raise ValueError(f"--pairs {spec!r}: expected sr:S or noise:SIGMA")
        self.gen = torch.Generator().manual_seed(seed + 1)
        self.test_gen = torch.Generator().manual_seed(seed + 2)

    def make(self, target, test=False, epoch=0, indices=None):
        """The inputs of targets; with tconv's streams, those of images `indices` of the
        training set in 0-based `epoch` (test: the test set's images, in order)."""
        if self.kind == "sr":
            return F.avg_pool2d(target, self.scale)
        if self.tconv_streams:
            if test:
                epoch, indices = tconv_streams.TEST_EPOCH, np.arange(len(target))
            keys = tconv_streams.noise_keys(self.seed, epoch, np.asarray(indices))
            return torch.from_numpy(tconv_streams.add_noise(target.numpy(), self.sigma, keys))
        gen = self.test_gen if test else self.gen
        return target + self.sigma * torch.randn(target.shape, generator=gen)

    def baseline(self, test_in, test):
        """(label, PSNR) of the plain answer tconv prints beside its own."""
        if self.kind == "sr":
            up = F.interpolate(test_in, scale_factor=self.scale, mode="bicubic",
                               align_corners=False)
            return f"bicubic x{self.scale} baseline", psnr(F.mse_loss(up, test).item())
        return "noisy input", psnr(F.mse_loss(test_in, test).item())


class TFAdam(torch.optim.Optimizer):
    """Adam as TF/Keras and tconv's default (optim/update.c, epsilon_mode hat) step it:
    w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps). torch.optim.Adam adds eps to
    sqrt(v)/sqrt(1-b2^t) instead, i.e. eps*sqrt(1-b2^t) in this form: a smaller epsilon in
    the first thousands of steps, which matters only where gradients are ~1e-8."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["t"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["t"] += 1
                t, m, v = st["t"], st["m"], st["v"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                lr_t = group["lr"] * (1 - b2 ** t) ** 0.5 / (1 - b1 ** t)
                p.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-lr_t)


def test_mse(model, test_in, test, batch=250):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(test), batch):
            y = model(test_in[i:i + batch])
            total += F.mse_loss(y, test[i:i + batch], reduction="sum").item()
    model.train()
    return total / test.numel()


def train(args, model, pairs, data, test_in, test):
    loss_fn = model.loss_fn()
    opt = TFAdam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    steps = len(data) // args.batch
    fixed_in = pairs.make(data) if pairs.kind == "sr" else None
    for epoch in range(1, args.epochs + 1):
        if args.tconv_streams:
            order = torch.from_numpy(tconv_streams.shuffle(len(data), args.seed, epoch - 1))
        else:
            order = torch.randperm(len(data), generator=gen)
        start, acc = time.perf_counter(), 0.0
        for s in range(steps):
            idx = order[s * args.batch:(s + 1) * args.batch]
            y_true = data[idx]
            x = fixed_in[idx] if fixed_in is not None else pairs.make(y_true, epoch=epoch - 1,
                                                                      indices=idx.numpy())
            loss = loss_fn(model(x), y_true)
            opt.zero_grad()
            loss.backward()
            opt.step()
            acc += loss.item()
        seconds = time.perf_counter() - start
        mse = test_mse(model, test_in, test)
        print(f"epoch {epoch}: train loss {acc / steps:.6f}, test mse {mse:.6f}, "
              f"psnr {psnr(mse):.2f} dB, {steps * args.batch / seconds:.0f} img/s", flush=True)


def main(doc, default_net, default_pairs):
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--net", default=default_net)
    ap.add_argument("--pairs", default=default_pairs)
    ap.add_argument("--data", default=DEBIAN_DIR)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--weights", help="a tconv checkpoint (.npz): load it, score the test "
                    "set and stop (a check that the twin computes what tconv computes)")
    ap.add_argument("--init", help="start from a tconv checkpoint's weights (`tconv train "
                    "--max-steps 0` saves the initial ones) instead of drawing them")
    ap.add_argument("--tconv-streams", action="store_true", help="shuffle and draw the "
                    "noise as tconv does (tconv_streams.py) instead of with PyTorch's RNG")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    data, test = load(args.data, "train"), load(args.data, "test")
    if args.limit:
        data = data[:args.limit]
    model, pairs = Net(args.net), Pairs(args.pairs, args.seed, args.tconv_streams)
    test_in = pairs.make(test, test=True)
    label, base = pairs.baseline(test_in, test)
    print(f"torch: {len(data)} training and {len(test)} test images, "
          f"{len(data) // args.batch} steps/epoch, {args.threads} threads, "
          f"torch {torch.__version__}, {args.net}, --pairs {args.pairs}")
    print(f"{label}: test PSNR {base:.2f} dB", flush=True)
    if args.weights:
        model.load_tconv(np.load(args.weights))
        mse = test_mse(model, test_in, test)
        print(f"tconv weights {args.weights}: test mse {mse:.6f}, psnr {psnr(mse):.2f} dB")
        return
    if args.init:
        model.load_tconv(np.load(args.init))
    train(args, model, pairs, data, test_in, test)
