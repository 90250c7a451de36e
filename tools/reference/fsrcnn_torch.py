#!/usr/bin/python3
"""The PyTorch twin of `tconv train --net examples/nets/fsrcnn.net --pairs sr:2`: x2
super-resolution of Fashion-MNIST (14x14 box-downscaled -> 28x28) with the FSRCNN-style net
of the same file, the same initialization rule, optimizer, batch, epochs and thread count.

    /usr/bin/python3 tools/reference/fsrcnn_torch.py --epochs 3 --threads 2

Prints the bicubic baseline, then one line per epoch: train loss, test MSE, PSNR and
training images/s (docs/benchmarks.md, "Issue 13 jobs"; tools/compare-torch-jobs.sh)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pairs_torch import main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__":
    main(__doc__, os.path.join(ROOT, "examples/nets/fsrcnn.net"), "sr:2")
