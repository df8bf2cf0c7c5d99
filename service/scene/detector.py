"""Static-object ("abandoned clutter") detection: what was not in the empty scene and has stayed there.

Why: COCO detectors have no class for cardboard boxes, building materials or piled junk, yet these block
fire lanes every day. This module models the empty scene per camera and reports regions that appeared inside
the zones and stayed, as `Detections` rows (origin "static", category "clutter").

Design for CCTV sampled seconds to minutes apart, and the measured choices behind it: docs/static-objects.md
("The model's design") and datasets/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from service.scene.measures import (
    NormalisedPolygon,
    change_masks,
    clean,
    consensus,
    dilate,
    fit_gain_offset,
    global_change,
    outline_edge,
    polygon_mask,
    zones_window,
)
from service.scene.persistence import PersistedModel
from service.scene.settings import StaticSettings
from service.vision.types import Detections, Frame


class StaticObjectDetector(PersistedModel):
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
        self.unseen: np.ndarray | None = None  # pixels of a widened window: learned from the next frame
        self.index = 0
        self.rebases = 0
        self.ghosts = 0

    def _setup(self, frame_size: tuple[int, int]) -> None:
        """The work picture is the zones' neighbourhood (`zones_window`) of a `work_width`-wide grey copy: what
        lies far from every zone can never be reported, and costs as much per pixel as what lies inside."""
        width = min(self.settings.work_width, frame_size[0])
        height = max(1, round(frame_size[1] * width / frame_size[0]))
        self._frame_size, self._full = frame_size, (width, height)
        self.window = zones_window(self.zones, self._full, self.settings.window_margin)
        x0, y0, x1, y1 = self.window
        self._work = (x1 - x0, y1 - y0)
        zone = self._mask(self.zones)
        self.region = zone & ~self._mask(self.masks) if self.masks else zone
        fit = cv2.dilate(self.region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        self._fit_region = fit if fit.sum() >= 50 else np.ones_like(fit)
        self._c = (0.03 * 255) ** 2
        self._min_area = max(6, int(self.settings.min_area_fraction * width * height))  # of the whole picture

    def _mask(self, polygons: Sequence[NormalisedPolygon]) -> np.ndarray:
        x0, y0, x1, y1 = self.window
        return polygon_mask(polygons, self._full)[y0:y1, x0:x1]

    def _grey(self, image: np.ndarray) -> np.ndarray:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        x0, y0, x1, y1 = self.window
        small = cv2.resize(grey, self._full, interpolation=cv2.INTER_AREA)[y0:y1, x0:x1].astype(np.float32)
        return cv2.GaussianBlur(small, (0, 0), 0.8)

    def _start(self, grey: np.ndarray) -> None:
        self.reference, self.previous, self.last = grey.copy(), grey.copy(), grey.copy()
        self.counter = np.zeros(grey.shape, np.uint16)
        self.carried = np.zeros(grey.shape, bool)
        self.foreground = np.zeros(grey.shape, bool)
        self.since = np.zeros(grey.shape, np.int32)
        self.look = grey.copy()
        self.disturbed = np.zeros(grey.shape, bool)
        self.unseen = None

    def set_reference(self, frame: Frame | np.ndarray) -> None:
        """Manual "this is the clear reference": the whole picture becomes the empty scene."""
        image = frame.image if isinstance(frame, Frame) else frame
        size = (int(image.shape[1]), int(image.shape[0]))
        if size != self._frame_size:
            self.reset()
            self._setup(size)
        self._start(self._grey(image))
        self.bootstrap = []
        self._snapshot(self.reference)  # the ghost test's history: the look declared clear

    def adopt_last_as_reference(self) -> bool:
        """Manual "this is the clear reference" for the latest sample already fed to `update` (no image needed):
        reference and look become that sample everywhere, counters, carried, foreground and disturbed regions
        are cleared, start-up learning ends. False (nothing changed) when no sample has been seen yet."""
        if self.previous is None:
            return False
        latest = self.previous  # always the latest sample's grey picture, in start-up as in normal updates
        self.reference, self.last, self.look = latest.copy(), latest.copy(), latest.copy()
        self.counter[:] = 0
        self.carried[:] = False
        self.foreground[:] = False
        self.disturbed[:] = False
        self.since[:] = 0
        self._stable = None
        self.bootstrap = []
        self._snapshot(self.reference)  # the ghost test's history: the look declared clear
        return True

    def relearn(self, zone_polygon: NormalisedPolygon | None = None) -> None:
        """A zone (or, with None, every zone) was confirmed clear: learn its current look as empty."""
        if self.reference is None or self.last is None:
            return
        area = self.region if zone_polygon is None else self._mask([zone_polygon])
        self.reference[area] = self.last[area]
        self.look[area] = self.last[area]
        self.counter[area] = 0
        self.carried[area] = False
        self.foreground[area] = False
        self.disturbed[area] = False

    # ---- measures ----------------------------------------------------------------------------------------
    def _align(self, grey: np.ndarray, target: np.ndarray, trusted: np.ndarray) -> np.ndarray:
        """`grey` mapped onto `target`'s brightness."""
        gain, offset = fit_gain_offset(grey, target, trusted)
        return ((grey - offset) / gain).astype(np.float32)

    def _changed(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel: (structure differs, brightness differs beyond shadow/light) between aligned images."""
        t = self.settings
        return change_masks(a, b, self._c, t.window, t.structure_threshold, t.ratio_low, t.ratio_high)

    # ---- main step ---------------------------------------------------------------------------------------
    def update(self, frame: Frame | np.ndarray) -> Detections:
        """One sampled frame in, the static regions inside the zones out (pixels of the frame)."""
        image = frame.image if isinstance(frame, Frame) else frame
        size = (int(image.shape[1]), int(image.shape[0]))
        if size != self._frame_size:  # a new resolution (camera reconfigured): start over, nothing carries
            self.reset()
            self._setup(size)
        grey = self._grey(image)
        s = self.settings
        self.index += 1
        if self.unseen is not None:
            self._learn_unseen(grey)
        if self.reference is None or self.bootstrap:
            self._learn_start(grey)
            # After a global change, what was carried stays reported while the new reference is agreed on.
            return self._regions() if self.carried is not None and self.carried.any() else Detections.empty()
        trusted = self._fit_region & ~self.foreground & ~self.carried
        if trusted.sum() < 50:
            trusted = self._fit_region
        gain, offset = fit_gain_offset(grey, self.reference, trusted)
        if 0.8 < gain < 1.25:
            current = ((grey - offset) / gain).astype(np.float32)
        else:  # brightness moved a lot (dawn, exposure): bring the reference to today's scale, keeps detail
            self.reference = (self.reference * gain + offset).astype(np.float32)
            self.look = (self.look * gain + offset).astype(np.float32)
            current = grey
        spread = np.subtract(*np.percentile(self.reference[self.region][::4], [95, 5]))
        self._c = max(4.0, (0.06 * float(spread)) ** 2)
        # Clipped pixels (over/under exposure) carry no texture: neither evidence of change nor of background.
        valid = ~dilate((grey > 242) | (grey < 6), 5)
        structure, brightness = self._changed(current, self.reference)
        anywhere = clean(structure | brightness) & valid
        changed = anywhere & self.region

        if global_change(anywhere, s.global_change_fraction):
            self._rebase(grey)
            return self._regions()

        previous = self._align(grey, self.previous, self._fit_region & ~changed)
        moved = dilate(np.logical_or(*self._changed(previous, self.previous)))
        stable = ~moved

        if self.carried.any():
            self._drop_gone(changed & stable, current)
        carried = self.carried
        foreground = (carried | changed) & self.region
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
        self.counter[~foreground & valid] = 0

        background = ~dilate(foreground | carried | (self.counter > 0), 7) & stable & valid
        self.reference[background] += s.learning_rate * (current[background] - self.reference[background])
        self.foreground, self._stable = foreground, stable
        self.previous, self.last = grey, current
        if self.index % s.snapshot_every == 0:
            self._snapshot(grey)
        return self._regions()

    def _drop_gone(self, changed: np.ndarray, current: np.ndarray) -> None:
        """A carried region (static when the scene changed globally) is reported whole until a good part of
        it changes for good (object taken away): then its current look is learned as empty."""
        count, labels = cv2.connectedComponents(self.carried.astype(np.uint8))
        for label in range(1, count):
            region = labels == label
            if np.mean(changed[region]) >= 0.3:
                self.reference[region] = current[region]
                self.look[region] = current[region]
                self.counter[region] = 0
                self.carried[region] = False

    def _snapshot(self, grey: np.ndarray) -> None:
        """Keep a few past looks for the ghost test (float16: half the memory, saved as they are)."""
        self.snapshots = [*self.snapshots, (self.index, grey.astype(np.float16))][-self.settings.max_snapshots :]

    def _learn_start(self, grey: np.ndarray) -> None:
        """Start-up: the reference is the consensus of the first samples, so passers-by vanish from it.

        Takes `bootstrap_samples`, and more (up to `bootstrap_max_samples`) while 3 samples do not agree on
        at least 98% of the zone (a busy pavement). Nothing is reported meanwhile.
        """
        self._snapshot(grey)
        if self.reference is None:
            self._start(grey)
            self.bootstrap = [grey]
            return
        self.bootstrap.append(self._align(grey, self.bootstrap[0], self._fit_region))
        reference, resolved = consensus(self.bootstrap, self._same)
        self.reference, self.previous, self.last = reference, grey, reference.copy()
        settled = np.mean(resolved[self.region]) >= 0.98 if self.region.any() else True
        n = len(self.bootstrap)
        if n >= self.settings.bootstrap_max_samples or (n >= self.settings.bootstrap_samples and settled):
            self.bootstrap = []

    def _same(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Two start-up samples agree on a pixel: close grey levels in a 5x5 patch (relative to contrast), or
        the same structure under a shadow (brightness ratio 0.55..1.8)."""
        spread = float(np.subtract(*np.percentile(b[self.region][::4], [95, 5]))) if self.region.any() else 100.0
        close = cv2.blur(np.abs(a - b), (5, 5)) < max(2.0, 0.08 * spread)
        structure, _ = self._changed(a, b)
        k = (self.settings.window, self.settings.window)
        ratio = (cv2.blur(a, k) + 8) / (cv2.blur(b, k) + 8)
        return close | (~structure & (ratio > 0.55) & (ratio < 1.8))

    def _rebase(self, grey: np.ndarray) -> None:
        """Global scene change: the current frame is the new reference; carry what was static until then."""
        static = (self.counter >= self.settings.min_static_samples) | self.carried
        closed = cv2.morphologyEx(static.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        self.carried = closed.astype(bool) & self.region
        self.reference, self.previous, self.last = grey.copy(), grey.copy(), grey.copy()
        self.look, self.disturbed = grey.copy(), np.zeros_like(self.disturbed)
        self.counter[~self.carried] = 0
        self.foreground = self.carried.copy()
        # One frame may hold passers-by, rain streaks or a shadow: agree on the new reference over the next
        # samples, as at start-up (carried regions are reported meanwhile).
        self.bootstrap = [grey.copy()]
        self.rebases += 1

    def _regions(self) -> Detections:
        s = self.settings
        static = (self.counter >= s.min_static_samples) & self.region
        static = cv2.morphologyEx(static.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(static, connectivity=8)
        boxes, scores = [], []
        fx, fy = self._frame_size[0] / self._full[0], self._frame_size[1] / self._full[1]
        wx, wy = self.window[:2]
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if area < self._min_area:
                continue
            blob = labels == label
            # Ghosts show up at once: test young blobs, and only while nothing stands in front of them.
            young = np.median(self.counter[blob]) <= s.stability_samples
            clear_view = self._stable is None or np.mean(self._stable[blob]) >= 0.9
            if young and clear_view and not self.carried[blob].any() and self._is_ghost(blob):
                rim = dilate(blob, 5) & ~self.carried  # no seam left around what is learned
                self.reference[rim] = self.last[rim]
                self.counter[rim] = 0
                self.ghosts += 1
                continue
            stability = float(np.median(self.counter[blob])) / s.stability_samples
            boxes.append([(wx + x) * fx, (wy + y) * fy, (wx + x + w) * fx, (wy + y + h) * fy])
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
        edge_now, edge_ref = outline_edge(self.last, blob), outline_edge(self.reference, blob)
        if edge_ref > self.settings.ghost_ratio * max(edge_now, 1.0) + 3.0:
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
            if taken >= start:
                continue
            crop = self._align(np.ascontiguousarray(snapshot[y0:y1, x0:x1], np.float32), now, np.ones_like(inside))
            same = np.mean(~np.logical_or(*self._changed(crop, now))[inside]) >= 0.8
            if same and something_else:
                return True
            something_else |= not same
        return False
