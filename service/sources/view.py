"""Frozen, black or covered views, from cheap image statistics over successive samples.

A camera can stream happily while showing nothing useful: a hung encoder repeating one picture,
video loss (black), or a lens covered, sprayed or turned to a wall (uniform, featureless).
Each check needs the condition on several consecutive samples, so one dark or still moment
does not raise a flag, and clears only after clean samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from service.sources.health import ViewProblem


@dataclass(frozen=True)
class ViewThresholds:
    """Conservative defaults: a real scene, even at night, is far from every threshold."""

    black_mean: float = 14.0  # mean luma below this...
    black_p99: float = 32.0  # ...and almost no bright pixel: video loss / lens capped
    covered_std: float = 7.0  # near-uniform picture (any brightness)
    covered_gradient: float = 0.8  # or almost no edges on the denoised thumbnail
    frozen_changed_fraction: float = 0.001  # share of pixels that changed by more than `frozen_delta`
    frozen_delta: int = 2
    frozen_after_s: float = 60.0  # a hung encoder repeats one picture at least this long
    confirm_samples: int = 3  # consecutive samples before a flag is raised
    clear_samples: int = 2  # consecutive clean samples before it is cleared


@dataclass(frozen=True)
class ViewStats:
    mean: float
    p99: float
    std: float
    gradient: float
    changed_fraction: float | None  # vs the previous sample; None for the first


def _luma(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def measure(image: np.ndarray, previous_sparse: np.ndarray | None) -> tuple[ViewStats, np.ndarray]:
    """Statistics of one BGR frame. Returns them with the sparse sample to compare the next frame to.

    Freezing is measured on a strided subsample (~180 px high) that keeps per-pixel noise: two real
    captures always differ somewhere; a repeated picture does not. Brightness and structure are
    measured on an area-averaged 80x60 thumbnail of it (noise averages out, a covered lens looks flat).
    About 1 ms for a 720p frame.
    """
    h, w = image.shape[:2]
    step = max(1, min(h, w) // 180)
    sparse = _luma(np.ascontiguousarray(image[::step, ::step]))
    thumb = cv2.resize(sparse, (80, 60), interpolation=cv2.INTER_AREA).astype(np.float32)
    gradient = float(np.abs(np.diff(thumb, axis=1)).mean() + np.abs(np.diff(thumb, axis=0)).mean()) / 2
    changed = None
    if previous_sparse is not None and previous_sparse.shape == sparse.shape:
        diff = cv2.absdiff(sparse, previous_sparse)
        changed = float(np.count_nonzero(diff > ViewThresholds.frozen_delta)) / diff.size
    stats = ViewStats(
        mean=float(thumb.mean()),
        p99=float(np.percentile(thumb, 99)),
        std=float(thumb.std()),
        gradient=gradient,
        changed_fraction=changed,
    )
    return stats, sparse


class ViewMonitor:
    """Feeds on sampled frames of one camera; `problem` is the current flag (None when the view is fine)."""

    def __init__(self, thresholds: ViewThresholds | None = None) -> None:
        self.t = thresholds or ViewThresholds()
        self.problem: ViewProblem | None = None
        self._previous: np.ndarray | None = None
        self._streak: dict[str, int] = {"black": 0, "covered": 0, "frozen": 0}
        self._frozen_since: float | None = None
        self._clean = 0

    def classify(self, stats: ViewStats, t_s: float) -> ViewProblem | None:
        """What this one sample looks like, before confirmation (frozen needs its duration too)."""
        th = self.t
        if stats.mean < th.black_mean and stats.p99 < th.black_p99:
            return "black"
        if stats.std < th.covered_std or stats.gradient < th.covered_gradient:
            return "covered"
        if stats.changed_fraction is not None and stats.changed_fraction < th.frozen_changed_fraction:
            if self._frozen_since is None:
                self._frozen_since = t_s
            if t_s - self._frozen_since >= th.frozen_after_s:
                return "frozen"
            return None
        self._frozen_since = None
        return None

    def update(self, image: np.ndarray, t_s: float) -> ViewProblem | None:
        """Add a sample taken at `t_s` (any monotonic seconds). Returns the (possibly new) flag."""
        stats, self._previous = measure(image, self._previous)
        candidate = self.classify(stats, t_s)
        for name in self._streak:
            self._streak[name] = self._streak[name] + 1 if candidate == name else 0
        if candidate is not None and self._streak[candidate] >= self.t.confirm_samples:
            self.problem, self._clean = candidate, 0
        elif candidate is None and self.problem is not None:
            self._clean += 1
            if self._clean >= self.t.clear_samples:
                self.problem, self._clean = None, 0
        return self.problem

    def reset(self) -> None:
        """Forget the previous picture (after a reconnect the first frame has nothing to compare to)."""
        self._previous = None
        self._frozen_since = None
