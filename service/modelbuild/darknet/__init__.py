"""Darknet (.cfg + .weights) to torch/ONNX conversion, written for the offline default model (YOLOv3-tiny)."""

from pathlib import Path

from service.modelbuild.darknet.cfg import DarknetCfgError, Section, parse_cfg, parse_cfg_text
from service.modelbuild.darknet.network import DarknetNetwork
from service.modelbuild.darknet.weights import DarknetWeightsError, WeightsHeader, load_weights

__all__ = [
    "DarknetCfgError",
    "DarknetNetwork",
    "DarknetWeightsError",
    "Section",
    "WeightsHeader",
    "load_darknet",
    "load_weights",
    "parse_cfg",
    "parse_cfg_text",
]


def load_darknet(cfg_path: Path, weights_path: Path) -> tuple[DarknetNetwork, WeightsHeader]:
    """Build the network from the cfg and load the weights into it (eval mode, no grad needed)."""
    network = DarknetNetwork(parse_cfg(cfg_path))
    header = load_weights(network, weights_path)
    return network.eval(), header
