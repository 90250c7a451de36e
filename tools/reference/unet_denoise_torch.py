#!/usr/bin/python3
"""The PyTorch twin of `tconv train --net examples/nets/unet.net --pairs noise:0.2`: a U-Net
denoiser (concat skips, bilinear upsampling and a Conv2DTranspose up path, L1 loss as the
file says) on Fashion-MNIST with Gaussian noise of sigma 0.2, the same initialization
rule, optimizer, batch, epochs and thread count.

    /usr/bin/python3 tools/reference/unet_denoise_torch.py --epochs 3 --threads 2

Prints the noisy input's PSNR, then one line per epoch: train loss, test MSE, PSNR and
training images/s (docs/benchmarks.md, "Issue 13 jobs"; tools/compare-torch-jobs.sh)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pairs_torch import main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__":
    main(__doc__, os.path.join(ROOT, "examples/nets/unet.net"), "noise:0.2")
