#!/usr/bin/python3
"""The PyTorch twin of `tconv train --model dcgan`: the networks of examples/nets/dcgan.net,
the same initialization rule, optimizer (Adam, lr 2e-4, beta1 0.5, epsilon 1e-8), batch, epochs, data
(Fashion-MNIST scaled to [-1, 1]) and step (G makes a batch; D learns real -> 1 and the
detached fakes -> 0; G learns through the new D toward 1), for an honest speed comparison
(docs/benchmarks.md).

    /usr/bin/python3 tools/reference/dcgan_torch.py --epochs 1 --threads 2

Prints one line per epoch: mean D and G losses and training images/s (the steps alone:
no sample grids are drawn). One difference: tconv splits a batch into --shards shards
(default 4) and batch norm uses each shard's statistics; here a batch is one piece.
Needs Debian's python3-torch and python3-numpy."""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from autoencoder_torch import DEBIAN_DIR, load


class Generator(nn.Module):
    """dense 3136 (no bias) -> BN -> relu -> (7,7,64) -> up 32 (no bias) -> BN -> relu -> up 1,
    tanh. BN as Keras: epsilon 1e-3, moving averages with momentum 0.99 (torch's 0.01)."""

    def __init__(self, latent):
        super().__init__()
        self.dense = nn.Linear(latent, 3136, bias=False)
        self.bn0 = nn.BatchNorm1d(3136, eps=1e-3, momentum=0.01)
        # k=4, s=2, padding=1: TF 'same' for a stride-2 transpose (pad_total 2)
        self.up1 = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        self.up2 = nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.bn0(self.dense(z)))
        # tconv reshapes NHWC (7,7,64); the order of a dense output is a free choice.
        h = h.view(-1, 64, 7, 7)
        h = F.relu(self.bn1(self.up1(h)))
        return torch.tanh(self.up2(h))


class Discriminator(nn.Module):
    """conv 32 k4 s2 same, leaky 0.2 -> conv 64 k4 s2 same, leaky 0.2 -> flatten -> dense 1."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, stride=2, padding=1)   # 28 -> 14: TF pads 1 and 1
        self.conv2 = nn.Conv2d(32, 64, 4, stride=2, padding=1)  # 14 -> 7
        self.logit = nn.Linear(7 * 7 * 64, 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.conv2(h), 0.2)
        return self.logit(h.flatten(1))


def glorot(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            # torch's xavier fans on these weight layouts equal TF's glorot fans.
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEBIAN_DIR)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--latent", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train = torch.from_numpy(load(args.data, "train")) * 2.0 - 1.0
    if args.limit:
        train = train[:args.limit]
    g, d = Generator(args.latent), Discriminator()
    glorot(g)
    glorot(d)
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr, betas=(0.5, 0.999), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    b = args.batch
    ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
    steps = len(train) // b
    print(f"torch dcgan: {len(train)} training images, {steps} steps/epoch, "
          f"{args.threads} threads, torch {torch.__version__}")
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(train), generator=gen)
        start, acc_d, acc_g = time.perf_counter(), 0.0, 0.0
        for s in range(steps):
            real = train[order[s * b:(s + 1) * b]]
            fake = g(torch.randn(b, args.latent, generator=gen))
            d_loss = (F.binary_cross_entropy_with_logits(d(real), ones) +
                      F.binary_cross_entropy_with_logits(d(fake.detach()), zeros))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)
            opt_g.zero_grad()
            g_loss.backward()  # also fills D's gradients, cleared before D's next step
            opt_g.step()
            acc_d += d_loss.item()
            acc_g += g_loss.item()
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}: d loss {acc_d / steps:.4f}, g loss {acc_g / steps:.4f}, "
              f"{steps * b / seconds:.0f} img/s")


if __name__ == "__main__":
    main()
