"""Static-object ("abandoned clutter") detection: what was not in the empty scene and has stayed there.

Why: COCO detectors have no class for cardboard boxes, building materials or piled junk, yet these block
fire lanes every day. This module models the empty scene per camera and reports regions that appeared inside
the zones and stayed, as `Detections` rows (origin "static", category "clutter").

Design for CCTV sampled seconds to minutes apart (no video-rate assumptions), chosen by measurement on
datasets/static_sequences.py (see datasets/README.md for the figures):

- Long-term model: one reference image of the empty scene (grey, downscaled to `work_width`), updated slowly
  only where the scene is background. Short-term model: the previous sample. A pixel is *static foreground*
  when it differs from the reference and equals the previous sample; a per-pixel counter of such samples
  must reach `min_static_samples`. Passers-by differ from the previous sample and never count.
- Lighting: "differs" is judged by the SSIM contrast-structure term (local correlation and contrast of a
  small window), which ignores gain and offset and so dawn, lamps, auto exposure and soft shadows; the
  current frame is first mapped onto the reference's brightness by a robust gain/offset fit. A strong
  brightness change on a flat area still counts unless it looks like a shadow or a light patch.
- A global scene change (IR day/night switch, camera moved) is a frame where most of the zone differs: the
  reference is rebuilt from that frame at once, and regions that were static at that moment are *carried*:
  they stay reported while they keep looking as they did, and are learned as empty once they change stably.
- Ghosts (an object that was in the reference and left) are told from new objects by their outline: a real
  object's outline has edges in the current frame, a ghost's outline has them in the reference only. Ghosts
  are re-learned at once.
- `set_reference(frame)` (manual "this is clear") and `relearn(zone_polygon)` (zone confirmed clear) re-learn.
  `state_dict()` / `load_state_dict()` keep the model across restarts (a few hundred kB).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from service.vision.types import Detections, Frame

NormalisedPolygon = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class StaticSettings:
    """Tuning of the static-object model; the defaults are the measured ones (datasets/README.md)."""

    work_width: int = 320
    window: int = 7
    structure_threshold: float = 0.5
    ratio_low: float = 0.3
    ratio_high: float = 2.5
    min_static_samples: int = 1
    learning_rate: float = 0.1
    min_area_fraction: float = 0.0015
    bootstrap_samples: int = 5
    global_change_fraction: float = 0.5
    ghost_ratio: float = 1.4
    stability_samples: int = 5
    snapshot_every: int = 10
    max_snapshots: int = 6


def _polygon_mask(polygons: Sequence[NormalisedPolygon], size: tuple[int, int]) -> np.ndarray:
    mask = np.zeros((size[1], size[0]), np.uint8)
    for poly in polygons:
        pts = (np.asarray(poly, np.float64) * np.array(size, np.float64)).round().astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


class StaticObjectDetector:
    """Per-camera static-object model. Feed every sampled frame of the camera to `update`, in time order."""

    def __init__(
        self,
        zones: Sequence[NormalisedPolygon],
        masks: Sequence[NormalisedPolygon] = (),
        settings: StaticSettings | None = None,
    ) -> None:
        self.zones = [list(map(tuple, z)) for z in zones]
        self.masks = [list(map(tuple, m)) for m in masks]
        self.settings = settings or StaticSettings()
        self._frame_size: tuple[int, int] | None = None
        self.reset()

    # ---- state -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything; the next frame becomes the reference."""
        self.reference: np.ndarray | None = None
        self.previous: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.counter: np.ndarray | None = None
        self.carried: np.ndarray | None = None
        self.foreground: np.ndarray | None = None
        self.bootstrap: list[np.ndarray] = []
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.since: np.ndarray | None = None
        self._stable: np.ndarray | None = None
        self.look: np.ndarray | None = None
        self.disturbed: np.ndarray | None = None
        self.index = 0
        self.rebases = 0
        self.ghosts = 0

    def _setup(self, frame_size: tuple[int, int]) -> None:
        width = min(self.settings.work_width, frame_size[0])
        height = max(1, round(frame_size[1] * width / frame_size[0]))
        self._frame_size, self._work = frame_size, (width, height)
        zone = _polygon_mask(self.zones, self._work)
        self.region = zone & ~_polygon_mask(self.masks, self._work) if self.masks else zone
        fit = cv2.dilate(self.region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        self._fit_region = fit if fit.sum() >= 50 else np.ones_like(fit)
        self._c = (0.03 * 255) ** 2
        self._min_area = max(6, int(self.settings.min_area_fraction * width * height))

    def _grey(self, image: np.ndarray) -> np.ndarray:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(grey, self._work, interpolation=cv2.INTER_AREA).astype(np.float32)
        return cv2.GaussianBlur(small, (0, 0), 0.8)

    def _start(self, grey: np.ndarray) -> None:
        self.reference, self.previous, self.last = grey.copy(), grey.copy(), grey.copy()
        self.counter = np.zeros(grey.shape, np.uint16)
        self.carried = np.zeros(grey.shape, bool)
        self.foreground = np.zeros(grey.shape, bool)
        self.since = np.zeros(grey.shape, np.int32)
        self.look = grey.copy()
        self.disturbed = np.zeros(grey.shape, bool)

    def set_reference(self, frame: Frame | np.ndarray) -> None:
        """Manual "this is the clear reference": the whole picture becomes the empty scene."""
        image = frame.image if isinstance(frame, Frame) else frame
        size = (int(image.shape[1]), int(image.shape[0]))
        if size != self._frame_size:
            self._setup(size)
        self._start(self._grey(image))
        self.bootstrap = []

    def relearn(self, zone_polygon: NormalisedPolygon | None = None) -> None:
        """A zone (or, with None, every zone) was confirmed clear: learn its current look as empty."""
        if self.reference is None or self.last is None:
            return
        area = self.region if zone_polygon is None else _polygon_mask([zone_polygon], self._work)
        self.reference[area] = self.last[area]
        self.previous[area] = self.last[area]
        self.counter[area] = 0
        self.carried[area] = False
        self.foreground[area] = False

    def state_dict(self) -> dict:
        """Arrays and settings to persist (np.savez-able); restores with `load_state_dict`."""
        if self.reference is None:
            return {"settings": asdict(self.settings)}
        return {
            "settings": asdict(self.settings),
            "frame_size": np.asarray(self._frame_size),
            "reference": self.reference.astype(np.float16),
            "previous": self.previous.astype(np.float16),
            "last": self.last.astype(np.float16),
            "counter": self.counter,
            "carried": self.carried,
            "foreground": self.foreground,
            "since": self.since,
            "look": self.look.astype(np.float16),
            "disturbed": self.disturbed,
            "index": np.asarray(self.index),
            "snapshot_index": np.asarray([i for i, _ in self.snapshots], np.int64),
            "snapshots": np.asarray([g for _, g in self.snapshots], np.float16).reshape(-1, *self.reference.shape),
            "bootstrap": np.asarray(self.bootstrap, np.float16).reshape(-1, *self.reference.shape),
        }

    def load_state_dict(self, state: dict) -> None:
        self.reset()
        if "reference" not in state:
            return
        self._setup(tuple(int(v) for v in state["frame_size"]))
        if tuple(state["reference"].shape) != (self._work[1], self._work[0]):
            return  # saved with other settings: start over
        for name in ("reference", "previous", "last"):
            setattr(self, name, np.asarray(state[name], np.float32))
        self.counter = np.asarray(state["counter"], np.uint16)
        self.carried = np.asarray(state["carried"], bool)
        self.foreground = np.asarray(state["foreground"], bool)
        self.since = np.asarray(state["since"], np.int32)
        self.look = np.asarray(state["look"], np.float32)
        self.disturbed = np.asarray(state["disturbed"], bool)
        self.index = int(state["index"])
        self.snapshots = [
            (int(i), np.asarray(g, np.float32)) for i, g in zip(state["snapshot_index"], state["snapshots"], strict=True)
        ]
        self.bootstrap = [np.asarray(g, np.float32) for g in state["bootstrap"]]

    # ---- measures ----------------------------------------------------------------------------------------
    def _fit(self, grey: np.ndarray, target: np.ndarray, trusted: np.ndarray) -> tuple[float, float]:
        """Gain and offset with grey ~ gain * target + offset: trimmed least squares on trusted pixels."""
        x, y = target[trusted][::3].astype(np.float64), grey[trusted][::3].astype(np.float64)
        if len(x) < 50 or np.std(x) < 1e-3:
            return 1.0, 0.0
        keep = np.ones(len(x), bool)
        gain, offset = 1.0, 0.0
        for _ in range(3):
            gain, offset = np.polyfit(x[keep], y[keep], 1)
            residual = np.abs(y - (gain * x + offset))
            keep = residual <= max(3.0, 2.5 * 1.4826 * np.median(residual[keep]))
            if keep.sum() < 50:
                break
        if not np.isfinite(gain) or gain < 0.05:
            return 1.0, 0.0
        return float(gain), float(offset)

    def _align(self, grey: np.ndarray, target: np.ndarray, trusted: np.ndarray) -> np.ndarray:
        """`grey` mapped onto `target`'s brightness."""
        gain, offset = self._fit(grey, target, trusted)
        return ((grey - offset) / gain).astype(np.float32)

    def _changed(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel: (structure differs, brightness differs beyond shadow/light) between aligned images."""
        k = (self.settings.window, self.settings.window)
        mean_a, mean_b = cv2.blur(a, k), cv2.blur(b, k)
        var_a = np.maximum(cv2.blur(a * a, k) - mean_a * mean_a, 0)
        var_b = np.maximum(cv2.blur(b * b, k) - mean_b * mean_b, 0)
        cov = cv2.blur(a * b, k) - mean_a * mean_b
        c = self._c
        sd = np.sqrt(var_a * var_b)
        similarity = ((2 * sd + c) / (var_a + var_b + c)) * ((cov + c / 2) / (sd + c / 2))
        structure = similarity < 1 - self.settings.structure_threshold
        ratio = (mean_a + 8) / (mean_b + 8)
        brightness = (ratio < self.settings.ratio_low) | (ratio > self.settings.ratio_high)
        return structure, brightness

    # ---- main step ---------------------------------------------------------------------------------------
    def update(self, frame: Frame | np.ndarray) -> Detections:
        """One sampled frame in, the static regions inside the zones out (pixels of the frame)."""
        image = frame.image if isinstance(frame, Frame) else frame
        size = (int(image.shape[1]), int(image.shape[0]))
        if size != self._frame_size:
            self._setup(size)
            self.reference = None
        grey = self._grey(image)
        s = self.settings
        self.index += 1
        if self.reference is None or (self.bootstrap and len(self.bootstrap) < s.bootstrap_samples):
            self._learn_start(grey)
            return Detections.empty()
        trusted = self._fit_region & ~self.foreground & ~self.carried
        if trusted.sum() < 50:
            trusted = self._fit_region
        gain, offset = self._fit(grey, self.reference, trusted)
        if 0.8 < gain < 1.25:
            current = ((grey - offset) / gain).astype(np.float32)
        else:  # brightness moved a lot (dawn, exposure): bring the reference to today's scale, keeps detail
            self.reference = (self.reference * gain + offset).astype(np.float32)
            self.look = (self.look * gain + offset).astype(np.float32)
            current = grey
        spread = np.subtract(*np.percentile(self.reference[self.region][::4], [95, 5]))
        self._c = max(4.0, (0.06 * float(spread)) ** 2)
        # Clipped pixels (over/under exposure) carry no texture: neither evidence of change nor of background.
        valid = ~_dilate((grey > 242) | (grey < 6), 5)
        structure, brightness = self._changed(current, self.reference)
        changed = _clean(structure | brightness) & self.region & valid

        if changed.sum() > s.global_change_fraction * max(1, self.region.sum()):
            self._rebase(grey)
            return self._regions()

        previous = self._align(grey, self.previous, self._fit_region & ~changed)
        moved = _dilate(np.logical_or(*self._changed(previous, self.previous)))
        stable = ~moved

        carried = self.carried
        foreground = np.where(carried, ~changed & valid, changed) & self.region
        self.since[foreground & ~self.foreground] = self.index
        # A static pixel disturbed (passer-by in front, or the object taken away) and quiet again: if it no
        # longer looks as it did while static, what is there now is new and starts counting afresh.
        self.disturbed = (self.disturbed | (foreground & ~stable & (self.counter > 0))) & foreground
        back = self.disturbed & stable
        if back.any():
            renewed = back & np.logical_or(*self._changed(current, self.look))
            self.counter[renewed] = 0
            self.since[renewed] = self.index
            self.disturbed &= ~back
        grow = foreground & stable
        self.counter[grow] = np.minimum(self.counter[grow] + 1, 60000)
        self.look[grow] = current[grow]
        self.counter[~foreground & ~carried & valid] = 0
        gone = carried & changed & stable
        self.counter[gone] = 0
        self.carried &= ~gone
        self.reference[gone] = current[gone]

        background = ~_dilate(foreground | carried | (self.counter > 0), 7) & stable & valid
        self.reference[background] += s.learning_rate * (current[background] - self.reference[background])
        self.foreground, self._stable = foreground, stable
        self.previous, self.last = grey, current
        if self.index % s.snapshot_every == 0:
            self._snapshot(grey)
        return self._regions()

    def _snapshot(self, grey: np.ndarray) -> None:
        self.snapshots = [*self.snapshots, (self.index, grey.copy())][-self.settings.max_snapshots :]

    def _learn_start(self, grey: np.ndarray) -> None:
        """Start-up: the reference is the consensus of the first samples, so passers-by vanish from it."""
        self._snapshot(grey)
        if self.reference is None:
            self._start(grey)
            self.bootstrap = [grey]
        else:
            self.bootstrap.append(self._align(grey, self.bootstrap[0], self._fit_region))
            self.reference = _consensus(self.bootstrap, self._same)
            self.previous, self.last = grey, self.reference.copy()
        if len(self.bootstrap) >= self.settings.bootstrap_samples:
            self.bootstrap = []

    def _same(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        import os
        mode = os.environ.get("CONS", "int")
        spread = float(np.subtract(*np.percentile(b[self.region][::4], [95, 5])))
        tol = max(2.0, float(os.environ.get("TOL", "0.08")) * spread)
        close = cv2.blur(np.abs(a - b), (5, 5)) < tol
        if mode == "int":
            return close
        structure, _ = self._changed(a, b)
        k = (self.settings.window, self.settings.window)
        ratio = (cv2.blur(a, k) + 8) / (cv2.blur(b, k) + 8)
        shaded = ~structure & (ratio > 0.55) & (ratio < 1.8)
        return close | shaded

    def _rebase(self, grey: np.ndarray) -> None:
        """Global scene change: the current frame is the new reference; carry what was static until then."""
        static = self.counter >= self.settings.min_static_samples
        self.carried = _dilate(static | self.carried) & self.region
        self.reference, self.previous, self.last = grey.copy(), grey.copy(), grey.copy()
        self.look, self.disturbed = grey.copy(), np.zeros_like(self.disturbed)
        self.counter[~self.carried] = 0
        self.foreground = self.carried.copy()
        self.rebases += 1

    def _regions(self) -> Detections:
        s = self.settings
        static = (self.counter >= s.min_static_samples) & self.region
        static = cv2.morphologyEx(static.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(static, connectivity=8)
        boxes, scores = [], []
        fx, fy = self._frame_size[0] / self._work[0], self._frame_size[1] / self._work[1]
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if area < self._min_area:
                continue
            blob = labels == label
            # Ghosts show up at once: test young blobs, and only while nothing stands in front of them.
            young = np.median(self.counter[blob]) <= s.stability_samples
            clear_view = self._stable is None or np.mean(self._stable[blob]) >= 0.9
            if young and clear_view and not self.carried[blob].any() and self._is_ghost(blob):
                self.reference[blob] = self.last[blob]
                self.counter[blob] = 0
                self.ghosts += 1
                continue
            stability = float(np.median(self.counter[blob])) / s.stability_samples
            boxes.append([x * fx, y * fy, (x + w) * fx, (y + h) * fy])
            scores.append(min(1.0, max(0.05, stability)))
        n = len(boxes)
        return Detections(
            xyxy=np.asarray(boxes, np.float32).reshape(n, 4),
            confidence=scores,
            class_name=["unknown_object"] * n,
            category=["clutter"] * n,
            origin=["static"] * n,
        )

    def _is_ghost(self, blob: np.ndarray) -> bool:
        """Something left or a flawed reference, not something new. Two tests:

        - history: the blob looks now as it did in a snapshot taken before it appeared (the reference
          had a passer-by baked in, or an object that has since left);
        - outline: the blob's outline is an edge in the reference but not in the frame. Edge evidence is the
          gradient across the outline minus the gradient along it, so ground texture (paving) scores ~0.
        """
        now, ref = _outline_edge(self.last, blob), _outline_edge(self.reference, blob)
        if ref > self.settings.ghost_ratio * max(now, 1.0) + 3.0:
            return True
        counted = blob & (self.counter > 0)
        start = int(self.since[counted].min()) if counted.any() else self.index
        x, y, w, h = cv2.boundingRect(blob.astype(np.uint8))
        x0, y0, x1, y1 = max(0, x - 4), max(0, y - 4), x + w + 4, y + h + 4
        inside = blob[y0:y1, x0:x1]
        # Newest first, snapshots from before the blob turned up (the sample before it may already hold an
        # object that arrived during start-up): its look now, seen *before* something else was there, is a ghost.
        now = np.ascontiguousarray(self.last[y0:y1, x0:x1])
        something_else = False
        for taken, snapshot in sorted(self.snapshots, key=lambda item: -item[0]):
            if taken >= start - 1:
                continue
            crop = self._align(np.ascontiguousarray(snapshot[y0:y1, x0:x1]), now, np.ones_like(inside))
            same = np.mean(~np.logical_or(*self._changed(crop, now))[inside]) >= 0.8
            if same and something_else:
                return True
            something_else |= not same
        return False


def _consensus(samples: list[np.ndarray], same: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Per pixel, the look most samples agree on (`same`: the detector's own change test, so drifting shadows
    agree), averaged over the samples that agree.

    A plain median fails when passers-by cover a spot in most samples (busy pavement): their looks differ from
    each other, while the empty ground looks the same every time it shows. Without agreement: the median.
    """
    stack = np.stack(samples).astype(np.float32)
    n = len(stack)
    agree = np.zeros((n, n, *stack.shape[1:]), bool)
    for i in range(n):
        for j in range(i + 1, n):
            agree[i, j] = agree[j, i] = same(stack[i], stack[j])
    support = agree.sum(axis=1)
    best = np.argmax(support, axis=0)
    rows, cols = np.indices(best.shape)
    members = agree[best, :, rows, cols].transpose(2, 0, 1) | (np.arange(n)[:, None, None] == best)
    mean = (stack * members).sum(axis=0) / members.sum(axis=0)
    median = np.median(stack, axis=0)
    return np.where(support.max(axis=0) > 0, mean, median).astype(np.float32)


def _outline_edge(image: np.ndarray, blob: np.ndarray) -> float:
    """Mean |gradient . normal| - |gradient x normal| on a blob's outline (normal from the smoothed mask)."""
    x, y, w, h = cv2.boundingRect(blob.astype(np.uint8))
    pad = 4
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(blob.shape[1], x + w + pad), min(blob.shape[0], y + h + pad)
    mask = cv2.GaussianBlur(blob[y0:y1, x0:x1].astype(np.float32), (0, 0), 1.5)
    nx, ny = cv2.Sobel(mask, cv2.CV_32F, 1, 0), cv2.Sobel(mask, cv2.CV_32F, 0, 1)
    norm = np.hypot(nx, ny)
    ring = norm > 0.05 * max(float(norm.max()), 1e-6)
    if ring.sum() < 8:
        return 0.0
    nx, ny = nx[ring] / norm[ring], ny[ring] / norm[ring]
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    gx, gy = cv2.Sobel(crop, cv2.CV_32F, 1, 0)[ring], cv2.Sobel(crop, cv2.CV_32F, 0, 1)[ring]
    return float(np.mean(np.abs(gx * nx + gy * ny)) - np.mean(np.abs(gy * nx - gx * ny)))


def _clean(mask: np.ndarray) -> np.ndarray:
    """Drop isolated pixels (noise, rain), keep blobs."""
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def _dilate(mask: np.ndarray, size: int = 3) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool)
