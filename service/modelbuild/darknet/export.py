"""ONNX export with an Ultralytics-compatible detection output and metadata.

Ultralytics runs any ONNX file whose single output is (batch, 4 + classes, anchors) = [cx, cy, w, h in input
pixels, class scores] and whose `metadata_props` carry the keys its exporter writes (read back by
`AutoBackend` via `apply_metadata`): then `YOLO(path, task="detect")` does its own letterbox, NMS and box
scaling. Darknet's class score is objectness x class probability, which is what we emit.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
from torch import nn

from service.modelbuild.darknet.network import DarknetNetwork

DEFAULT_OPSET = 17
# The keys Ultralytics' exporter records under "args" for format=onnx (exporter.py export table).
ONNX_ARG_KEYS = ("batch", "data", "dynamic", "quantize", "opset", "simplify", "nms", "fraction")


class UltralyticsDetectOutput(nn.Module):
    """Wraps a DarknetNetwork so it returns one (B, 4 + classes, N) tensor, like Ultralytics' Detect head.

    Rows keep Darknet's order (yolo layers in cfg order, then y, x, anchor), so row i of the ONNX output is
    detection i of Darknet or OpenCV's Darknet reader.
    """

    def __init__(self, network: DarknetNetwork) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        per_layer = [d.reshape(d.shape[0], -1, d.shape[-1]) for d in self.network(images)]
        p = torch.cat(per_layer, 1)
        scores = p[..., 4:5] * p[..., 5:]  # sigmoid(obj) * sigmoid(cls), as in Darknet's get_yolo_detections
        return torch.cat((p[..., :4], scores), -1).transpose(1, 2)


def ultralytics_metadata(
    names: dict[int, str],
    *,
    stride: int,
    imgsz: int,
    description: str,
    author: str,
    license: str,
    docs: str,
    version: str,
    dynamic: bool,
    opset: int,
    channels: int = 3,
) -> dict[str, Any]:
    """The same keys, in the same order and with the same value types, as Ultralytics' Exporter.metadata."""
    args = {"batch": 1, "data": None, "dynamic": dynamic, "quantize": None, "opset": opset}
    args |= {"simplify": False, "nms": False, "fraction": 1.0}
    assert tuple(args) == ONNX_ARG_KEYS
    return {
        "description": description,
        "author": author,
        "date": datetime.now().astimezone().isoformat(),
        "version": version,
        "license": license,
        "docs": docs,
        "stride": int(stride),
        "task": "detect",
        "head": "Detect",
        "batch": 1,
        "imgsz": [imgsz, imgsz],
        "names": dict(names),
        "args": args,
        "channels": channels,
        "end2end": False,
    }


def export_onnx(
    network: DarknetNetwork,
    path: Path,
    metadata: dict[str, Any],
    *,
    imgsz: int = 640,
    opset: int = DEFAULT_OPSET,
    dynamic: bool = True,
) -> None:
    """Export `network` (weights loaded) to `path` as an Ultralytics-style detection ONNX.

    With dynamic=True batch, height and width are free (any multiple of the network stride works), so
    Ultralytics honours the `imgsz` a caller asks for and letterboxes minimally; with a static graph it would
    silently force the exported imgsz.
    """
    import onnx  # only needed at export time

    model = UltralyticsDetectOutput(network).eval()
    dummy = torch.zeros(1, network.channels, imgsz, imgsz)
    axes = {"images": {0: "batch", 2: "height", 3: "width"}, "output0": {0: "batch", 2: "anchors"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python values are expected
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            input_names=["images"],
            output_names=["output0"],
            dynamic_axes=axes if dynamic else None,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)  # str(): Ultralytics reads them back with ast.literal_eval
    proto.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 4 + network.classes  # tracer leaves it symbolic
    proto.ir_version = min(proto.ir_version, 10)  # what Ultralytics does, for older onnxruntime builds
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
