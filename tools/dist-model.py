#!/usr/bin/env python3
"""dist-model.py C_MS GRAD_BYTES [SUMS] — the cost model of docs/distributed.md as tables.

C_MS: compute milliseconds per image on one machine (forward + backward of one image);
GRAD_BYTES: bytes summed per step; SUMS: cross-rank sums per step (1 autoencoder, 3 DCGAN).
Time of one step on N machines with a global batch of B images:
    T(N) = B * c / N + sum_time(N)
    sum_time(N) = SUMS * 2 (N-1) alpha + 2 (N-1)/N * G / beta   (ring, and tconv's
                  alltoall + allgather: N-1 messages each way)
    tree (recursive halving/doubling): SUMS * 2 log2(N) alpha + 2 (N-1)/N * G / beta
Throughput = B / T(N); efficiency = (B c / N) / T(N). Two break-even columns: the first N
(a power of two) whose efficiency is below 50%, and the last N after which doubling the
machines adds less than 10% throughput ("stops paying")."""
import math
import sys

c = float(sys.argv[1]) / 1e3
g = float(sys.argv[2])
sums = int(sys.argv[3]) if len(sys.argv) > 3 else 1
links = {"10 Gbit/s": (10e9 / 8, 25e-6), "100 Gbit/s": (100e9 / 8, 10e-6)}


def sum_time(n, beta, alpha, tree):
    if n == 1:
        return 0.0
    lat = 2 * math.log2(n) if tree else 2 * (n - 1)
    return sums * lat * alpha + 2 * (n - 1) / n * g / beta


def table(batch_of, top, title):
    print(f"\n{title}\n")
    print("| link | sum | N=1 | N=8 | N=16 | N=64 | below 50% from | stops paying after |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (beta, alpha) in links.items():
        for tree in (False, True):
            row, prev, stop, half = [], None, None, None
            n = 1
            while n <= top:
                b = batch_of(n)
                t = b * c / n + sum_time(n, beta, alpha, tree)
                rate, eff = b / t, b * c / n / t
                if prev is not None and stop is None and rate < 1.1 * prev:
                    stop = n // 2
                if half is None and eff < 0.5:
                    half = n
                prev = rate
                if n in (1, 8, 16, 64):
                    row.append(f"{rate:,.0f} img/s ({eff:.0%})")
                n *= 2
            kind = "tree" if tree else "ring"
            print(f"| {name} | {kind} | " + " | ".join(row) +
                  f" | {half or f'> {top}'} | {stop or f'>= {top}'} |")


table(lambda n: 64, 64,
      "Global batch 64 (strong scaling, N <= 64 shards); cells: images/s (parallel efficiency)")
table(lambda n: 64 * n, 1024, "64 images per machine (weak scaling)")
