"""Darknet layers as torch modules, built from parsed cfg sections, numerically matching Darknet's forward.

Supported: convolutional (leaky/linear, optional batch norm folded at load time), maxpool, route, upsample and
yolo; that is all YOLOv3-tiny uses. Anything else raises DarknetCfgError naming the section and line, so a
different cfg fails loudly instead of converting into a silently wrong network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from service.modelbuild.darknet.cfg import DarknetCfgError, Section

ACTIVATIONS = {"leaky", "linear"}


class ConvLayer(nn.Module):
    """[convolutional]: conv (+ batch norm, folded into the conv by the weights loader) + activation."""

    def __init__(self, section: Section, in_channels: int) -> None:
        super().__init__()
        self.filters = section.get_int("filters")
        self.size = section.get_int("size", 1)
        self.stride = section.get_int("stride", 1)
        self.batch_normalize = bool(section.get_int("batch_normalize", 0))
        # Darknet: pad=1 means "same" padding (size/2) and overrides `padding`.
        padding = self.size // 2 if section.get_int("pad", 0) else section.get_int("padding", 0)
        if section.get_int("groups", 1) != 1:
            raise DarknetCfgError(f"[convolutional] at line {section.line}: groups != 1 is not supported")
        self.activation = section.get_str("activation", "logistic")
        if self.activation not in ACTIVATIONS:
            raise DarknetCfgError(
                f"[convolutional] at line {section.line}: activation {self.activation!r} is not supported"
            )
        self.in_channels = in_channels
        self.conv = nn.Conv2d(in_channels, self.filters, self.size, self.stride, padding, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return F.leaky_relu(x, 0.1) if self.activation == "leaky" else x


class MaxPoolLayer(nn.Module):
    """[maxpool] with Darknet's padding: `padding` (default size-1) cells, pad//2 before, the rest after.

    Darknet treats padded cells as -inf (they never win), so YOLOv3-tiny's size=2 stride=1 pool keeps the
    13x13 grid and its last row/column is the max of the valid cells only; zero padding would be wrong there
    because leaky activations can be negative.
    """

    def __init__(self, section: Section) -> None:
        super().__init__()
        self.size = section.get_int("size", 2)
        self.stride = section.get_int("stride", self.size)
        total = section.get_int("padding", self.size - 1)
        before, after = total // 2, total - total // 2
        self.pad = (before, after, before, after)  # F.pad order: left, right, top, bottom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pad):
            x = F.pad(x, self.pad, mode="constant", value=float("-inf"))
        return F.max_pool2d(x, self.size, self.stride)


class UpsampleLayer(nn.Module):
    """[upsample]: nearest-neighbour by an integer stride."""

    def __init__(self, section: Section) -> None:
        super().__init__()
        self.stride = section.get_int("stride", 2)
        if self.stride < 1 or section.get_float("scale", 1.0) != 1.0:
            raise DarknetCfgError(f"[upsample] at line {section.line}: only positive stride and scale=1 are supported")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=float(self.stride), mode="nearest")


class RouteLayer(nn.Module):
    """[route]: channel concatenation of earlier layers' outputs (indices made absolute here)."""

    def __init__(self, section: Section, index: int) -> None:
        super().__init__()
        if section.get_int("groups", 1) != 1:
            raise DarknetCfgError(f"[route] at line {section.line}: groups != 1 is not supported")
        self.sources = [i + index if i < 0 else i for i in section.get_ints("layers")]
        if not self.sources or any(not 0 <= i < index for i in self.sources):
            raise DarknetCfgError(f"[route] at line {section.line}: layers must refer to earlier layers")


class YoloLayer(nn.Module):
    """[yolo]: decodes one detection scale.

    Output (B, H, W, A, 5 + classes), rows in Darknet's own (y, x, anchor) order: cx, cy, w, h in input
    pixels, then sigmoid(objectness) and sigmoid(class logits). xy = (sigmoid * scale_x_y - (scale_x_y-1)/2 +
    cell) * stride and wh = exp * anchor, as in Darknet's get_yolo_box (anchors are in input pixels).
    """

    def __init__(self, section: Section, stride: int) -> None:
        super().__init__()
        self.classes = section.get_int("classes", 20)
        anchors = section.get_ints("anchors")
        if len(anchors) % 2:
            raise DarknetCfgError(f"[yolo] at line {section.line}: anchors must be w,h pairs")
        pairs = [anchors[i : i + 2] for i in range(0, len(anchors), 2)]
        self.mask = section.get_ints("mask", list(range(len(pairs))))
        if any(not 0 <= m < len(pairs) for m in self.mask):
            raise DarknetCfgError(f"[yolo] at line {section.line}: mask refers to a missing anchor")
        if section.get_int("new_coords", 0):
            raise DarknetCfgError(f"[yolo] at line {section.line}: new_coords=1 is not supported")
        self.scale_x_y = section.get_float("scale_x_y", 1.0)
        self.stride = stride
        self.register_buffer("anchors", torch.tensor([pairs[m] for m in self.mask], dtype=torch.float32))

    @property
    def outputs_per_cell(self) -> int:
        return len(self.mask) * (5 + self.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        p = x.view(b, len(self.mask), 5 + self.classes, h, w).permute(0, 3, 4, 1, 2)
        gy, gx = torch.meshgrid(
            torch.arange(h, dtype=x.dtype, device=x.device),
            torch.arange(w, dtype=x.dtype, device=x.device),
            indexing="ij",
        )
        grid = torch.stack((gx, gy), -1).view(1, h, w, 1, 2)
        scale = self.scale_x_y
        xy = (p[..., :2].sigmoid() * scale - 0.5 * (scale - 1.0) + grid) * float(self.stride)
        wh = p[..., 2:4].exp() * self.anchors.view(1, 1, 1, -1, 2)
        return torch.cat((xy, wh, p[..., 4:].sigmoid()), -1)


class DarknetNetwork(nn.Module):
    """A Darknet detection network; forward returns one decoded tensor per [yolo] layer, in cfg order."""

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        net, layers = sections[0], sections[1:]
        self.width = net.get_int("width", 416)
        self.height = net.get_int("height", 416)
        self.channels = net.get_int("channels", 3)
        self.layers = nn.ModuleList()
        channels: list[int] = []
        strides: list[int] = []
        c, s = self.channels, 1
        for index, section in enumerate(layers):
            if index and section.type != "route" and isinstance(self.layers[-1], YoloLayer):
                raise DarknetCfgError(f"[{section.type}] at line {section.line}: only [route] may follow [yolo]")
            layer: nn.Module
            if section.type in {"convolutional", "conv"}:
                layer = ConvLayer(section, c)
                c, s = layer.filters, s * layer.stride
            elif section.type in {"maxpool", "max"}:
                layer = MaxPoolLayer(section)
                s *= layer.stride
            elif section.type == "upsample":
                layer = UpsampleLayer(section)
                if s % layer.stride:
                    raise DarknetCfgError(f"[upsample] at line {section.line}: upsampling past the input size")
                s //= layer.stride
            elif section.type == "route":
                layer = RouteLayer(section, index)
                if any(isinstance(self.layers[i], YoloLayer) for i in layer.sources):
                    raise DarknetCfgError(f"[route] at line {section.line}: routing a [yolo] output is not supported")
                if len({strides[i] for i in layer.sources}) != 1:
                    raise DarknetCfgError(f"[route] at line {section.line}: concatenated layers differ in size")
                c, s = sum(channels[i] for i in layer.sources), strides[layer.sources[0]]
            elif section.type == "yolo":
                layer = YoloLayer(section, s)
                if c != layer.outputs_per_cell:
                    raise DarknetCfgError(
                        f"[yolo] at line {section.line}: input has {c} channels, "
                        f"expected {len(layer.mask)} x (5 + {layer.classes}) = {layer.outputs_per_cell}"
                    )
            else:
                raise DarknetCfgError(f"[{section.type}] at line {section.line}: layer type not supported")
            self.layers.append(layer)
            channels.append(c)
            strides.append(s)
        self.yolo_layers = [layer for layer in self.layers if isinstance(layer, YoloLayer)]
        if not self.yolo_layers:
            raise DarknetCfgError("the cfg has no [yolo] layer: not a YOLO detection network")
        if len({layer.classes for layer in self.yolo_layers}) != 1:
            raise DarknetCfgError("[yolo] layers disagree on the number of classes")
        self.classes = self.yolo_layers[0].classes
        self.max_stride = max(layer.stride for layer in self.yolo_layers)

    @property
    def conv_layers(self) -> list[ConvLayer]:
        """Convolutional layers in cfg order: the order their weights are stored in the .weights file."""
        return [layer for layer in self.layers if isinstance(layer, ConvLayer)]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs: list[torch.Tensor] = []
        detections: list[torch.Tensor] = []
        for layer in self.layers:
            if isinstance(layer, RouteLayer):
                x = (
                    torch.cat([outputs[i] for i in layer.sources], 1)
                    if len(layer.sources) > 1
                    else outputs[layer.sources[0]]
                )
            elif isinstance(layer, YoloLayer):
                detections.append(layer(x))
            else:
                x = layer(x)
            outputs.append(x)
        return detections
