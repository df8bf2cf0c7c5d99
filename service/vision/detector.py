"""Ultralytics inference backend and model resolution.

Resolution order: explicit path or name (CLEARWAY_MODEL) -> file of that name in models/ ->
the Ultralytics download (online only) -> the offline default built by `clearway model install-default`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from service.vision.classmap import ClassMap
from service.vision.types import Detections

DEFAULT_MODEL_FILENAME = "yolov3-tiny-coco.onnx"
os.environ.setdefault("YOLO_VERBOSE", "false")  # Ultralytics prints to stdout otherwise (breaks `detect` JSON)


class ModelNotFoundError(RuntimeError):
    """No usable model: the message says how to get one."""


class Detector(Protocol):
    """Anything that turns a BGR image into Detections (the real one is UltralyticsDetector)."""

    def detect(self, image: np.ndarray) -> Detections: ...


def by_shape(images: list[np.ndarray], run: Callable[[list[np.ndarray]], list[Detections]]) -> list[Detections]:
    """`run` once per group of equally sized images, answers in the images' order. Why: images of one size get
    one letterboxed input shape and can share a tensor, so each gets what it would alone (a camera's frames
    all have one size)."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for index, image in enumerate(images):
        groups.setdefault(image.shape, []).append(index)
    found: dict[int, Detections] = {}
    for members in groups.values():
        found.update(zip(members, run([images[i] for i in members]), strict=True))
    return [found[i] for i in range(len(images))]


def offline() -> bool:
    return os.environ.get("YOLO_OFFLINE", "").lower() in {"1", "true", "yes"}


def resolve_model(name_or_path: str | None, models_dir: Path) -> str:
    """Return a path (or, online, an Ultralytics model name) to load."""
    if name_or_path:
        candidate = Path(name_or_path)
        if candidate.is_file():
            return str(candidate)
        if (models_dir / name_or_path).is_file():
            return str(models_dir / name_or_path)
        if not offline() and candidate.suffix == ".pt" and candidate.parent == Path("."):
            return name_or_path  # Ultralytics downloads its own released weights by name
        raise ModelNotFoundError(
            f"model {name_or_path!r} not found (looked at the path and in {models_dir}); "
            "offline, only local files can be used"
        )
    default = models_dir / DEFAULT_MODEL_FILENAME
    if default.is_file():
        return str(default)
    raise ModelNotFoundError(
        f"no model in {models_dir}: run `clearway model install-default` (builds the offline "
        "YOLOv3-tiny COCO model) or set CLEARWAY_MODEL to a .pt/.onnx file"
    )


class UltralyticsDetector:
    """One Ultralytics model. Not thread-safe: give each inference worker its own instance."""

    def __init__(self, model: str, class_map: ClassMap, imgsz: int = 640, device: str = "cpu") -> None:
        from ultralytics import YOLO  # heavy import, only where inference really happens

        self.model_path = model
        self.model = YOLO(model, task="detect")
        self.class_map = class_map
        self.imgsz = imgsz
        self.device = device
        self._lock = threading.Lock()

    @property
    def class_names(self) -> dict[int, str]:
        return dict(self.model.names)

    def detect(self, image: np.ndarray) -> Detections:
        return self._predict([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """One `predict` per size: Ultralytics letterboxes a mixed batch to a square, which would change answers."""
        return by_shape(images, self._predict)

    def _predict(self, images: list[np.ndarray]) -> list[Detections]:
        with self._lock:
            results = self.model.predict(
                images, imgsz=self.imgsz, conf=self.class_map.min_threshold, device=self.device, verbose=False
            )
        return [self._detections(result) for result in results]

    def _detections(self, result: Any) -> Detections:  # an Ultralytics Results
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return Detections.empty()
        names = result.names
        class_ids = boxes.cls.cpu().numpy().astype(int)
        return self.class_map.apply(
            boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), [names[int(i)] for i in class_ids]
        )
