#!/usr/bin/python3
"""The PyTorch twin of `tconv train --model autoencoder`: same architecture, initialization
rule, optimizer, batch, epochs and data, for an honest comparison (docs/benchmarks.md).

    /usr/bin/python3 tools/reference/autoencoder_torch.py --epochs 3 --threads 2

Prints one line per epoch: train loss, test MSE, PSNR and training images/s.
Needs Debian's python3-torch and python3-numpy (tools/compare-torch.sh installs them)."""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

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
            return read_idx_images(path)
    raise FileNotFoundError(f"no {stem} images in {data_dir}")


class SamePad(nn.Module):
    """TF 'same' for a stride-2 3x3 convolution on even sizes: 0 rows before, 1 after."""

    def forward(self, x):
        return F.pad(x, (0, 1, 0, 1))


class Autoencoder(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.enc = nn.Sequential(
            SamePad(), nn.Conv2d(1, 16, 3, stride=2), nn.ReLU(),
            SamePad(), nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
            nn.Flatten(), nn.Linear(7 * 7 * 32, latent))
        self.dec_dense = nn.Sequential(nn.Linear(latent, 7 * 7 * 32), nn.ReLU())
        # k=4, s=2, padding=1 crops one row on each side: TF 'same' (pad_total 2).
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1), nn.Sigmoid())
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                # torch's xavier fans on these weight layouts equal TF's glorot fans.
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        z = self.enc(x)
        # tconv reshapes NHWC (7,7,32); the order of a dense output is a free choice.
        h = self.dec_dense(z).view(-1, 32, 7, 7)
        return self.dec(h)


def test_mse(model, test, batch=256):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(test), batch):
            x = test[i:i + batch]
            total += F.mse_loss(model(x), x, reduction="sum").item()
    model.train()
    return total / test.numel()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEBIAN_DIR)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--latent", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train = torch.from_numpy(load(args.data, "train"))
    test = torch.from_numpy(load(args.data, "test"))
    if args.limit:
        train = train[:args.limit]
    model = Autoencoder(args.latent)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    steps = len(train) // args.batch
    print(f"torch: {len(train)} training and {len(test)} test images, {steps} steps/epoch, "
          f"{args.threads} threads, torch {torch.__version__}")
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(train), generator=gen)
        start, acc = time.perf_counter(), 0.0
        for s in range(steps):
            x = train[order[s * args.batch:(s + 1) * args.batch]]
            loss = F.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            acc += loss.item()
        seconds = time.perf_counter() - start
        mse = test_mse(model, test)
        print(f"epoch {epoch}: train loss {acc / steps:.6f}, test mse {mse:.6f}, "
              f"psnr {10 * np.log10(1 / mse):.2f} dB, {steps * args.batch / seconds:.0f} img/s")


if __name__ == "__main__":
    main()
