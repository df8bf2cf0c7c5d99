"""Clear width of a fire lane: the narrowest free passage left between obstructions, in metres.

Why: the fire code asks for at least 4.0 m of clear width for a fire engine, not for "no object". Given the
camera's ground homography, the lane polygon and the obstructing boxes are mapped to the ground plane, each
box's footprint is removed from the lane, and cross-sections perpendicular to the lane's long axis are cut.
The clear width of a section is its longest free interval; the lane's clear width is the minimum over sections.

Footprint assumption: a box's bottom edge is where the object touches the ground, nearest to the camera.
That edge is projected to the ground and extruded along the line of sight (the image column's direction on
the ground), away from the camera, by `footprint_depth_m` (default 1.0 m: a pile of boxes, a cart, a scooter
seen side-on): what the object covers lies behind its silhouette's bottom edge as seen from the camera. The
true depth is not visible, so this is a documented guess; pass a larger depth for vehicles (4.5 m for a car).
Measured on the known-geometry tests: within 0.1 m for boxes seen straight on; seen 12 degrees aside, the
box's bottom edge spans more ground than the object, so the width errs low (4.24 m for 4.5, 2.46 for 3.0).

The free width between two sections varies linearly, so its minimum lies at a breakpoint: the sections are
cut at every vertex of the lane and of the footprints (projected onto the axis), plus a regular grid.
Sections within `end_margin_m` of the lane ends are skipped (hand-drawn ends are rarely square).

This one module is everything about clear width: the geometry, what a hazard's lane measures (`lane_clear_width`:
calibrated camera, fire-lane zone, every non-person object the engine placed there, a footprint depth by
category) and how it is drawn on evidence (`draw_clear_width`, labelled in the style of vision/drawing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.ops import unary_union

from service.config.calibration import GroundCalibration
from service.config.site import Camera, Zone, ZoneType
from service.vision.drawing import label_size, put_label
from service.vision.geometry import to_pixels
from service.vision.types import Detections

Severity = Literal["major", "minor"]


@dataclass(frozen=True)
class ClearWidthResult:
    """The narrowest section of the lane: its free width and where it is (image pixels and ground metres)."""

    width_m: float
    lane_width_m: float
    section_img: tuple[tuple[float, float], tuple[float, float]]
    section_ground: tuple[tuple[float, float], tuple[float, float]]
    footprints_img: list[np.ndarray] = field(default_factory=list)
    sections: int = 0

    def to_json(self) -> dict:
        return {
            "clear_width_m": round(self.width_m, 3),
            "lane_width_m": round(self.lane_width_m, 3),
            "section_img": [[round(v, 1) for v in p] for p in self.section_img],
            "section_ground": [[round(v, 3) for v in p] for p in self.section_ground],
        }


def severity_for(width_m: float | None, minimum_m: float = 4.0) -> Severity:
    """Below the minimum clear width the hazard is major; unknown (uncalibrated) or enough stays minor."""
    return "major" if width_m is not None and width_m < minimum_m else "minor"


def box_footprint(
    xyxy: Sequence[float], calibration: GroundCalibration, image_size: tuple[int, int], depth_m: float
) -> Polygon | None:
    """Ground polygon of one box: its bottom edge projected, extruded by `depth_m` along the line of sight."""
    x1, _, x2, y2 = (float(v) for v in xyxy)
    bottom = calibration.to_ground(np.array([[x1, y2], [x2, y2]]), image_size)
    probe = calibration.to_ground(np.array([[(x1 + x2) / 2, y2], [(x1 + x2) / 2, y2 - 2.0]]), image_size)
    if np.any(np.isnan(bottom)) or np.any(np.isnan(probe)):
        return None  # at or above the horizon: no ground contact to measure
    a, b = bottom
    if np.hypot(*(b - a)) < 1e-6:
        return None
    away = probe[1] - probe[0]  # the image column's direction on the ground: along the line of sight
    norm = float(np.hypot(*away))
    if norm < 1e-9:
        return None
    away = away / norm * depth_m
    poly = Polygon([a, b, b + away, a + away])
    return poly if poly.is_valid and poly.area > 0 else poly.buffer(0)


def _lane_axis(lane: Polygon) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector along the lane's long side (minimum rotated rectangle) and its perpendicular."""
    corners = np.asarray(lane.minimum_rotated_rectangle.exterior.coords)[:4]
    e1, e2 = corners[1] - corners[0], corners[2] - corners[1]
    along = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    along = along / np.hypot(*along)
    return along, np.array([-along[1], along[0]])


def _longest(piece: object) -> tuple[float, np.ndarray | None]:
    """Longest straight piece of a section/free-space intersection."""
    best, ends = 0.0, None
    for geom in getattr(piece, "geoms", [piece]):
        if isinstance(geom, LineString) and not geom.is_empty and geom.length > best:
            best, ends = geom.length, np.asarray(geom.coords)[[0, -1]]
        elif hasattr(geom, "geoms"):
            length, sub = _longest(geom)
            if length > best:
                best, ends = length, sub
    return best, ends


def _pair(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    return (float(points[0, 0]), float(points[0, 1])), (float(points[1, 0]), float(points[1, 1]))


def narrowest_clear_width(
    lane_polygon_img: Sequence[Sequence[float]],
    obstacle_boxes_img: np.ndarray | Sequence[Sequence[float]],
    calibration: GroundCalibration,
    image_size: tuple[int, int],
    *,
    footprint_depth_m: float | Sequence[float] = 1.0,
    step_m: float = 0.25,
    end_margin_m: float = 0.5,
) -> ClearWidthResult | None:
    """Narrowest clear width of a lane drawn in pixels of an image of `image_size` (width, height).

    Returns None when the lane cannot be mapped to the ground (a vertex at or above the horizon).
    """
    lane_ground = calibration.to_ground(np.asarray(lane_polygon_img, dtype=np.float64), image_size)
    if np.any(np.isnan(lane_ground)):
        return None
    lane = Polygon(lane_ground)
    if not lane.is_valid:
        lane = lane.buffer(0)
    if lane.is_empty or lane.area <= 0:
        return None

    boxes = np.asarray(obstacle_boxes_img, dtype=np.float64).reshape(-1, 4)
    depths = np.broadcast_to(np.asarray(footprint_depth_m, dtype=np.float64), (len(boxes),))
    footprints = [box_footprint(b, calibration, image_size, float(d)) for b, d in zip(boxes, depths, strict=True)]
    footprints = [f for f in footprints if f is not None and f.intersects(lane)]
    free = lane.difference(unary_union(footprints)) if footprints else lane

    along, across = _lane_axis(lane)
    origin = np.asarray(lane.centroid.coords[0])
    lane_pts = np.asarray(lane.exterior.coords) - origin
    t_lane, s_lane = lane_pts @ along, lane_pts @ across
    t_min, t_max = t_lane.min() + end_margin_m, t_lane.max() - end_margin_m
    if t_max <= t_min:
        t_min = t_max = (t_lane.min() + t_lane.max()) / 2
    reach = (s_lane.max() - s_lane.min()) + 1.0

    breaks = [t_lane]
    for f in footprints:
        geoms = f.geoms if isinstance(f, MultiPolygon) else [f]
        for g in geoms:
            breaks.append((np.asarray(g.exterior.coords) - origin) @ along)
    critical = np.concatenate(breaks)
    candidates = np.concatenate(
        [np.arange(t_min, t_max + 1e-9, step_m), critical - 1e-6, critical + 1e-6, [t_min, t_max]]
    )
    candidates = np.unique(candidates[(candidates >= t_min) & (candidates <= t_max)])

    best_width, best_ends, lane_width = np.inf, None, np.inf
    for t in candidates:
        centre = origin + along * t
        section = LineString([centre - across * reach, centre + across * reach])
        lane_len, lane_ends = _longest(section.intersection(lane))
        if lane_len <= 0:
            continue
        lane_width = min(lane_width, lane_len)
        if footprints:
            width, ends = _longest(section.intersection(free))
            if ends is None:  # fully blocked: show the whole section
                width, ends = 0.0, lane_ends
        else:
            width, ends = lane_len, lane_ends
        if width < best_width:
            best_width, best_ends = width, ends
    if best_ends is None:
        return None

    ends_img = calibration.to_image(best_ends, image_size)
    footprints_img = [
        calibration.to_image(np.asarray(f.exterior.coords), image_size) for f in footprints if isinstance(f, Polygon)
    ]
    return ClearWidthResult(
        width_m=float(best_width),
        lane_width_m=float(lane_width),
        section_img=_pair(ends_img),
        section_ground=_pair(best_ends),
        footprints_img=footprints_img,
        sections=len(candidates),
    )


# --- what a hazard's lane measures ----------------------------------------------------------------------
FOOTPRINT_DEPTH_M = {"vehicle": 4.5, "two_wheeler": 1.8, "clutter": 1.0}
"""Typical ground depth (metres, along the line of sight) behind an object's visible bottom edge."""


def lane_clear_width(
    camera: Camera, zone: Zone, detections: Detections, size: tuple[int, int]
) -> ClearWidthResult | None:
    """The narrowest clear width of `zone` given this frame's objects in it; None when it cannot be measured."""
    if camera.calibration is None or zone.type != ZoneType.fire_lane:
        return None
    rows = [i for i, zones in enumerate(detections.zones) if zone.id in zones and detections.category[i] != "person"]
    boxes = detections.xyxy[np.asarray(rows, dtype=np.int64)].reshape(-1, 4)
    depths = [FOOTPRINT_DEPTH_M.get(str(detections.category[i]), 1.0) for i in rows]
    lane = to_pixels(zone.polygon, *size)
    return narrowest_clear_width(lane, boxes, camera.calibration, size, footprint_depth_m=depths or 1.0)


class LaneWidths:
    """Clear width per fire lane of one frame, measured at most once (several hazards may share a lane)."""

    def __init__(self, camera: Camera, detections: Detections, size: tuple[int, int]) -> None:
        self.camera, self.detections, self.size = camera, detections, size
        self._widths: dict[str, ClearWidthResult | None] = {}

    def get(self, zone: Zone) -> ClearWidthResult | None:
        if zone.id not in self._widths:
            self._widths[zone.id] = lane_clear_width(self.camera, zone, self.detections, self.size)
        return self._widths[zone.id]


# --- drawing on evidence --------------------------------------------------------------------------------
BELOW = (0, 0, 255)  # BGR red: below the minimum
ENOUGH = (0, 200, 0)  # green
FOOTPRINT = (0, 220, 255)


def draw_clear_width(
    image: np.ndarray, result: ClearWidthResult, minimum_m: float = 4.0, footprints: bool = True
) -> np.ndarray:
    """Draw on `image` (modified and returned): footprints, the narrowest section with end ticks, the width."""
    height, width = image.shape[:2]
    scale = max(0.45, min(width, height) / 800)
    thickness = max(2, round(scale * 3))
    colour = BELOW if result.width_m < minimum_m else ENOUGH
    if footprints:
        for poly in result.footprints_img:
            if np.all(np.isfinite(poly)):
                cv2.polylines(image, [poly.round().astype(np.int32)], True, FOOTPRINT, max(1, thickness - 1))
    (x1, y1), (x2, y2) = result.section_img
    p1, p2 = np.array([x1, y1]), np.array([x2, y2])
    a, b = tuple(int(v) for v in p1.round()), tuple(int(v) for v in p2.round())
    cv2.line(image, a, b, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.line(image, a, b, colour, thickness, cv2.LINE_AA)
    direction = p2 - p1
    length = float(np.hypot(*direction))
    normal = np.array([-direction[1], direction[0]]) / length if length > 1e-6 else np.array([0.0, 1.0])
    tick = normal * 6 * scale * 2
    for p in (p1, p2):
        q1, q2 = (p - tick).round().astype(int), (p + tick).round().astype(int)
        cv2.line(image, (int(q1[0]), int(q1[1])), (int(q2[0]), int(q2[1])), colour, thickness, cv2.LINE_AA)
    verdict = "<" if result.width_m < minimum_m else ">="
    text = f"{result.width_m:.2f} m {verdict} {minimum_m:.1f} m"  # numbers and units: read in any language
    label_w, label_h = label_size(text, (width, height))
    mid = (p1 + p2) / 2
    x = int(np.clip(mid[0] - label_w / 2, 0, max(0, width - label_w)))
    above = min(p1[1], p2[1]) - abs(tick[1]) - 6 * scale - label_h  # clear of the line and its ticks
    below = max(p1[1], p2[1]) + abs(tick[1]) + 6 * scale
    put_label(image, text, (x, int(above if above >= 0 else below)), colour)
    return image
