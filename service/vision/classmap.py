"""Class map: a model's own class names -> Clearway hazard categories, with per-category thresholds.

Kept as data (models/classmap-*.yaml) so a custom model maps its classes the same way, no code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from service.vision.types import CATEGORIES, Detections

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
DEFAULT_CLASSMAP = MODELS_DIR / "classmap-coco.yaml"


class ClassMapError(ValueError):
    """A class map file that cannot be used."""


@dataclass(frozen=True)
class ClassMap:
    category_of: dict[str, str]
    thresholds: dict[str, float]

    @classmethod
    def from_dict(cls, data: dict, origin: str = "class map") -> ClassMap:
        if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
            raise ClassMapError(f"{origin}: needs a 'categories' mapping of category -> [class names]")
        category_of: dict[str, str] = {}
        for category, names in data["categories"].items():
            if category not in CATEGORIES:
                raise ClassMapError(f"{origin}: categories.{category}: unknown category (use {CATEGORIES})")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ClassMapError(f"{origin}: categories.{category}: must be a list of class names")
            for name in names:
                if name in category_of:
                    raise ClassMapError(f"{origin}: class {name!r} is mapped twice")
                category_of[name] = category
        thresholds = {c: 0.25 for c in CATEGORIES}
        for category, value in (data.get("thresholds") or {}).items():
            if category not in CATEGORIES or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ClassMapError(f"{origin}: thresholds.{category}: must be a known category with 0..1")
            thresholds[category] = float(value)
        return cls(category_of=category_of, thresholds=thresholds)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CLASSMAP) -> ClassMap:
        path = Path(path)
        try:
            return cls.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")), origin=str(path))
        except FileNotFoundError:
            raise ClassMapError(f"class map not found: {path}") from None

    @property
    def min_threshold(self) -> float:
        return min(self.thresholds.values())

    def apply(self, xyxy: np.ndarray, confidence: np.ndarray, class_names: list[str]) -> Detections:
        """Keep the mapped classes that pass their category's threshold."""
        categories = [self.category_of.get(name) for name in class_names]
        keep = np.array(
            [c is not None and float(s) >= self.thresholds[c] for c, s in zip(categories, confidence, strict=True)],
            dtype=bool,
        )
        if not len(keep):
            return Detections.empty()
        return Detections(
            xyxy=np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)[keep],
            confidence=np.asarray(confidence)[keep],
            class_name=np.asarray(class_names, dtype=object)[keep],
            category=np.asarray(categories, dtype=object)[keep],
        )
