"""A PyTorch reading of a tconv network description (docs/networks.md), for the twins of
`tconv train --net FILE`: the same nodes, in file order, with TF/Keras semantics spelled
out where PyTorch's differ:

- Conv2D padding 'same': TF pads pad_total = max((ceil(in/s) - 1)*s + k - in, 0), the
  smaller half before (top/left) and the larger after, which for a stride-2 conv on an even
  size is (0, 1), not PyTorch's symmetric padding.
- Conv2DTranspose: the full transposed convolution ((in-1)*s + k rows), then TF1's 'same'
  crop of pad_total = (in-1)*s + k - in*s rows, pad_total//2 before and the rest after.
  For k=9, s=2 that is 3 before and 4 after, which no ConvTranspose2d padding/output_padding
  pair gives, so the crop is explicit.
- upsample bilinear: Keras UpSampling2D = tf.image.resize with half-pixel centres, which is
  F.interpolate(..., mode='bilinear', align_corners=False) (same taps, same clamping).
- Initialization: the file's kernel_initializer (default glorot_uniform; torch's xavier fans
  on OIHW / IOHW weights equal TF's glorot fans on HWIO / HWOI kernels) and zero biases.

Only the kinds and keys the shipped image-to-image nets use are read; any other kind or key
is refused rather than ignored, so a twin never silently differs from its file."""
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {"linear": None, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
KEYS = {
    "input": {"shape"},
    "conv2d": {"filters", "kernel_size", "strides", "padding", "activation",
               "kernel_initializer", "bias_initializer"},
    "conv2d_transpose": {"filters", "kernel_size", "strides", "padding", "activation",
                         "kernel_initializer", "bias_initializer"},
    "upsample": {"size", "interpolation"},
    "concat": {"axis"},
}


def pair(value):
    parts = [int(v) for v in value.split(",")]
    return (parts[0], parts[-1])


def tf_same_total(size, k, s):
    """TF's total 'same' padding of a convolution with kernel k, stride s on `size` rows."""
    out = -(-size // s)
    return max((out - 1) * s + k - size, 0)


def init_kernel(weight, spec):
    """The file's kernel_initializer: glorot_uniform (default), random_normal:MEAN:STDDEV
    (Keras defaults 0, 0.05) or zeros."""
    name, *args = (spec or "glorot_uniform").split(":")
    if name == "glorot_uniform":
        nn.init.xavier_uniform_(weight)
    elif name == "random_normal":
        mean = float(args[0]) if args else 0.0
        std = float(args[1]) if len(args) > 1 else 0.05
        nn.init.normal_(weight, mean, std)
    elif name == "zeros":
        nn.init.zeros_(weight)
    else:
        raise ValueError(f"kernel_initializer {spec!r}: not supported by the twin")


class Conv(nn.Module):
    """Keras Conv2D (NCHW here), 'valid' or TF 'same' padding."""

    def __init__(self, cin, a):
        super().__init__()
        self.k, self.s = pair(a["kernel_size"]), pair(a.get("strides", "1"))
        self.same = a.get("padding", "valid").lower() == "same"
        self.conv = nn.Conv2d(cin, int(a["filters"]), self.k, stride=self.s)
        self.act = ACTIVATIONS[a.get("activation", "linear")]
        init_kernel(self.conv.weight, a.get("kernel_initializer"))
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        if self.same:
            th = tf_same_total(x.shape[2], self.k[0], self.s[0])
            tw = tf_same_total(x.shape[3], self.k[1], self.s[1])
            x = F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
        y = self.conv(x)
        return self.act(y) if self.act else y


class ConvT(nn.Module):
    """TF1 conv2d_transpose / Keras Conv2DTranspose: full transposed conv, then TF's crop."""

    def __init__(self, cin, a):
        super().__init__()
        self.k, self.s = pair(a["kernel_size"]), pair(a.get("strides", "1"))
        self.same = a.get("padding", "valid").lower() == "same"
        self.conv = nn.ConvTranspose2d(cin, int(a["filters"]), self.k, stride=self.s)
        self.act = ACTIVATIONS[a.get("activation", "linear")]
        init_kernel(self.conv.weight, a.get("kernel_initializer"))
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        if not self.same and (self.k[0] < self.s[0] or self.k[1] < self.s[1]):
            raise ValueError("'valid' with a kernel smaller than the stride: not supported")
        y = self.conv(x)
        if self.same:
            th = (h - 1) * self.s[0] + self.k[0] - h * self.s[0]
            tw = (w - 1) * self.s[1] + self.k[1] - w * self.s[1]
            if th < 0 or tw < 0:
                raise ValueError("kernel smaller than stride: not supported by the twin")
            y = y[:, :, th // 2:th // 2 + h * self.s[0], tw // 2:tw // 2 + w * self.s[1]]
        return self.act(y) if self.act else y


class Upsample(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.size = pair(a["size"])
        self.mode = a.get("interpolation", "nearest").lower()

    def forward(self, x):
        if self.mode == "bilinear":
            return F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
        return F.interpolate(x, scale_factor=self.size, mode="nearest")


def parse(path):
    """(nodes, outputs, loss): nodes a list of (kind, name, inputs, attrs) in file order."""
    lines = open(path).read().splitlines()
    variables, nodes, outputs, loss = {}, [], [], None
    for line in lines:
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        words = [re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], w) for w in words]
        if words[0] == "var":
            name, value = words[1].split("=", 1)
            variables[name] = value
        elif words[0] == "output":
            outputs = words[1:]
        elif words[0] == "loss":
            loss = (words[1], dict(w.split("=", 1) for w in words[2:]))
        else:
            kind, name = words[0], words[1]
            if kind not in KEYS:
                raise ValueError(f"{path}: kind {kind!r}: not supported by the twin")
            inputs = [w for w in words[2:] if "=" not in w]
            attrs = dict(w.split("=", 1) for w in words[2:] if "=" in w)
            unknown = set(attrs) - KEYS[kind]
            if unknown:
                raise ValueError(f"{path}: {kind} {name}: keys {sorted(unknown)} not supported")
            nodes.append((kind, name, inputs, attrs))
    return nodes, outputs, loss


class Net(nn.Module):
    """The description as a module: forward(x) gives the loss's output node."""

    def __init__(self, path):
        super().__init__()
        self.nodes, outputs, self.loss = parse(path)
        self.out = self.loss[1].get("output", outputs[0])
        self.layers = nn.ModuleDict()
        channels = {}
        for kind, name, inputs, a in self.nodes:
            if kind == "input":
                self.input_shape = [int(v) for v in a["shape"].split(",")]
                channels[name] = self.input_shape[-1]
                continue
            cin = sum(channels[i] for i in inputs)
            if kind == "conv2d":
                self.layers[name] = Conv(cin, a)
                channels[name] = int(a["filters"])
            elif kind == "conv2d_transpose":
                self.layers[name] = ConvT(cin, a)
                channels[name] = int(a["filters"])
            elif kind == "upsample":
                self.layers[name] = Upsample(a)
                channels[name] = cin
            elif kind == "concat":
                if int(a.get("axis", "-1")) != -1:
                    raise ValueError("concat: only the channel axis (-1) is supported")
                channels[name] = cin

    def forward(self, x):
        values = {}
        for kind, name, inputs, _ in self.nodes:
            if kind == "input":
                values[name] = x
            elif kind == "concat":
                values[name] = torch.cat([values[i] for i in inputs], dim=1)  # NHWC -1 = C
            else:
                values[name] = self.layers[name](values[inputs[0]])
        return values[self.out]

    def loss_fn(self):
        kind = self.loss[0]
        if kind == "mse":
            return F.mse_loss
        if kind == "mae":
            return F.l1_loss
        raise ValueError(f"loss {kind!r}: not supported by the twin")

    def load_tconv(self, arrays):
        """Weights from a tconv checkpoint's arrays (TF layouts): conv2d kernels
        (kh, kw, in, out) -> OIHW; conv2d_transpose kernels (kh, kw, out, in) -> IOHW."""
        with torch.no_grad():
            for name, layer in self.layers.items():
                if not hasattr(layer, "conv"):
                    continue
                k = torch.from_numpy(arrays[f"{name}/kernel"].copy())
                w = k.permute(3, 2, 0, 1)  # both layouts: (kh, kw, A, B) -> (B, A, kh, kw)
                assert w.shape == layer.conv.weight.shape, (name, w.shape, layer.conv.weight.shape)
                layer.conv.weight.copy_(w)
                layer.conv.bias.copy_(torch.from_numpy(arrays[f"{name}/bias"].copy()))


def psnr(mse):
    return 10.0 * math.log10(1.0 / mse)
