#!/usr/bin/python3
"""Checks the twins' Conv2DTranspose (netfile_torch.ConvT: the full transposed convolution,
then TF's 'same' crop) against TensorFlow's own forward outputs in tests/data/layer.case,
for every case whose activation and padding the twins support.

    /usr/bin/python3 tools/reference/convt_case_check.py [tests/data/layer.case]

Prints one line per case and the worst |torch - TF|; exits 1 if any exceeds 1e-4."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netfile_torch import ACTIVATIONS, ConvT  # noqa: E402


def cases(path):
    lines = open(path).read().split("\n")
    case, i = None, 0
    while i < len(lines):
        w = lines[i].split()
        if w and w[0] == "case":
            case = {"name": w[1], "attr": {}, "t": {}}
        elif w and w[0] == "attr":
            case["attr"][w[1]] = w[2:]
        elif w and w[0] == "tensor":
            rank = int(w[2])
            dims = [int(v) for v in w[3:3 + rank]]
            vals = []
            while len(vals) < int(np.prod(dims)):
                i += 1
                vals += [float(v) for v in lines[i].split()]
            case["t"][w[1]] = np.array(vals, np.float32).reshape(dims)
        elif w and w[0] == "end":
            yield case
        i += 1


def run(case):
    """The twin's output in the case's layout, or None where the twin does not apply."""
    a, t = case["attr"], case["t"]
    if a["kind"][0] != "layer" or a["activation"][0] not in ACTIVATIONS or a["use_bias"][0] != "1":
        return None
    x = torch.from_numpy(t["x"])
    nhwc = a["data_format"][0] == "channels_last"
    if nhwc:
        x = x.permute(0, 3, 1, 2)
    try:
        layer = ConvT(x.shape[1], {"filters": a["filters"][0], "kernel_size": ",".join(a["kernel_size"]),
                                   "strides": ",".join(a["strides"]), "padding": a["padding"][0],
                                   "activation": a["activation"][0]})
        with torch.no_grad():
            layer.conv.weight.copy_(torch.from_numpy(t["kernel"]).permute(3, 2, 0, 1))
            layer.conv.bias.copy_(torch.from_numpy(t["bias"]))
            y = layer(x)
    except ValueError:
        return None
    return (y.permute(0, 2, 3, 1) if nhwc else y).numpy()


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/layer.case"
    worst, n = 0.0, 0
    for case in cases(path):
        y = run(case)
        if y is None:
            continue
        err = float(np.abs(y - case["t"]["y"]).max()) if y.shape == case["t"]["y"].shape else float("inf")
        worst, n = max(worst, err), n + 1
        print(f"{'ok ' if err <= 1e-4 else 'BAD'} {case['name']}: max |torch - TF| {err:.2e}")
    print(f"{n} cases, worst {worst:.2e}")
    return 0 if n > 0 and worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
