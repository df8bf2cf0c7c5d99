"""Darknet `.weights` reader: header, then float32 parameters per convolutional layer in cfg order.

Layout (darknet/src/parser.c, load_convolutional_weights): int32 major, minor, revision; `seen` as int64
when major*10+minor >= 2 (int32 before); then for each conv layer: biases (= BN beta when batch_normalize),
[BN gamma, running mean, running variance], then the conv kernel (out, in, k, k). Every byte must be
consumed: a short or long file means the cfg and the weights do not belong together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from service.modelbuild.darknet.network import DarknetNetwork

# Darknet's normalize_cpu divides by (sqrt(variance) + .000001f), not sqrt(variance + eps).
DARKNET_BN_EPS = 1e-6


class DarknetWeightsError(ValueError):
    """The .weights file is malformed or does not match the cfg it is loaded into."""


@dataclass(frozen=True)
class WeightsHeader:
    major: int
    minor: int
    revision: int
    seen: int  # images seen in training
    size: int  # header bytes


def read_header(data: bytes) -> WeightsHeader:
    """Parse the version header; `seen` is 8 bytes from format 0.2 on, 4 bytes before."""
    if len(data) < 16:
        raise DarknetWeightsError(f"weights file is {len(data)} bytes: too short for a Darknet header")
    major, minor, revision = (int(v) for v in np.frombuffer(data, dtype="<i4", count=3))
    if major > 1000 or minor > 1000:
        raise DarknetWeightsError(f"weights version {major}.{minor} (transposed legacy format) is not supported")
    if major * 10 + minor >= 2:
        seen, size = int(np.frombuffer(data, dtype="<i8", count=1, offset=12)[0]), 20
    else:
        seen, size = int(np.frombuffer(data, dtype="<i4", count=1, offset=12)[0]), 16
    if len(data) < size:
        raise DarknetWeightsError(f"weights file is {len(data)} bytes: too short for a version {major}.{minor} header")
    return WeightsHeader(major, minor, revision, seen, size)


def expected_floats(network: DarknetNetwork) -> int:
    """How many float32 parameters the cfg's conv layers need from the file."""
    total = 0
    for conv in network.conv_layers:
        total += conv.filters * (4 if conv.batch_normalize else 1) + conv.conv.weight.numel()
    return total


def load_weights(network: DarknetNetwork, path: Path) -> WeightsHeader:
    """Load a .weights file into `network` (in place), folding batch norm into each conv, exactly as Darknet
    computes it: y = gamma * (conv(x) - mean) / (sqrt(var) + 1e-6) + beta. Raises DarknetWeightsError on any
    size mismatch, naming the layer where the file ran out."""
    data = Path(path).read_bytes()
    header = read_header(data)
    body = len(data) - header.size
    needed = expected_floats(network)
    if body % 4:
        raise DarknetWeightsError(f"{path}: {body} bytes after the header is not a whole number of float32 values")
    values = np.frombuffer(data, dtype="<f4", offset=header.size).astype(np.float64)
    offset = 0

    def take(count: int, what: str, layer: int) -> np.ndarray:
        nonlocal offset
        if offset + count > values.size:
            raise DarknetWeightsError(
                f"{path}: truncated at conv layer {layer} ({what}): the cfg needs {needed} float32 values "
                f"({needed * 4 + header.size} bytes) but the file has {values.size} ({len(data)} bytes)"
            )
        chunk = values[offset : offset + count]
        offset += count
        return chunk

    with torch.no_grad():
        for i, conv in enumerate(network.conv_layers):
            n = conv.filters
            bias = take(n, "biases", i)
            if conv.batch_normalize:
                gamma, mean, var = take(n, "scales", i), take(n, "rolling mean", i), take(n, "rolling variance", i)
            kernel = take(conv.conv.weight.numel(), "weights", i).reshape(tuple(conv.conv.weight.shape))
            if conv.batch_normalize:
                scale = gamma / (np.sqrt(var) + DARKNET_BN_EPS)
                kernel = kernel * scale[:, None, None, None]
                bias = bias - mean * scale
            conv.conv.weight.copy_(torch.from_numpy(kernel.astype(np.float32)))
            conv.conv.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
    if offset != values.size:
        raise DarknetWeightsError(
            f"{path}: {values.size - offset} float32 values left over after the last conv layer: "
            "these weights belong to a different cfg"
        )
    return header
