"""Tuning of the static-object model, apart from the model so callers can build settings without OpenCV."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StaticSettings:
    """Tuning of the static-object model; the defaults are the measured ones (datasets/README.md)."""

    work_width: int = 320
    window_margin: float = 0.5  # the work window: the zones' box widened by this share of it on each side
    window: int = 7
    structure_threshold: float = 0.5
    ratio_low: float = 0.3
    ratio_high: float = 2.5
    min_static_samples: int = 1
    learning_rate: float = 0.1
    min_area_fraction: float = 0.0015
    bootstrap_samples: int = 5
    bootstrap_max_samples: int = 9
    global_change_fraction: float = 0.5
    ghost_ratio: float = 2.5
    stability_samples: int = 5
    snapshot_every: int = 10
    max_snapshots: int = 6
