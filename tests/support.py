"""Test helpers: a scripted detector standing in for the model, test pictures, a free port, a bounded wait."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from service.vision.types import Detections


def detections(*objects: tuple[str, str, Sequence[float]], confidence: float = 0.9) -> Detections:
    """detections(("car", "vehicle", (x1, y1, x2, y2)), ...)"""
    if not objects:
        return Detections.empty()
    return Detections(
        xyxy=np.array([o[2] for o in objects], dtype=np.float32),
        confidence=[confidence] * len(objects),
        class_name=[o[0] for o in objects],
        category=[o[1] for o in objects],
    )


class ScriptedDetector:
    """Answers with the detections registered for an image's content (empty when unknown)."""

    def __init__(self) -> None:
        self.by_image: dict[str, Detections] = {}
        self.calls = 0
        self.gate: threading.Event | None = None

    @staticmethod
    def key(image: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()

    def register(self, image: np.ndarray, found: Detections) -> None:
        self.by_image[self.key(image)] = found

    def detect(self, image: np.ndarray) -> Detections:
        if self.gate is not None:
            self.gate.wait(timeout=10)
        self.calls += 1
        found = self.by_image.get(self.key(image), Detections.empty())
        return found[np.arange(len(found))]


def png_bytes(seed: int, size: tuple[int, int] = (64, 48)) -> tuple[bytes, np.ndarray]:
    """A distinct, losslessly encoded test picture and the BGR array the service will decode from it."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue(), rgb[:, :, ::-1].copy()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], object], timeout_s: float = 15.0, interval_s: float = 0.05) -> bool:
    """Poll until `check()` is truthy or `timeout_s` passes, then check once more (every wait is bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return bool(check())
