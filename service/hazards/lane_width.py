"""Clear width of one fire lane in one frame: which objects obstruct it and how deep their footprints are.

Why here: `service/vision/clear_width.py` measures geometry; this decides what to measure for a hazard: the
camera must be calibrated and the zone a fire lane; every non-person object the engine placed in that zone
counts (persons never obstruct); a footprint's depth along the line of sight depends on what the object is,
since only its near edge is visible.
"""

from __future__ import annotations

import numpy as np

from service.config.site import Camera, Zone, ZoneType
from service.vision.clear_width import ClearWidthResult, narrowest_clear_width
from service.vision.geometry import to_pixels
from service.vision.types import Detections

FOOTPRINT_DEPTH_M = {"vehicle": 4.5, "two_wheeler": 1.8, "clutter": 1.0}
"""Typical ground depth (metres, along the line of sight) behind an object's visible bottom edge."""


def lane_clear_width(
    camera: Camera, zone: Zone, detections: Detections, zones_of: list[list[str]], size: tuple[int, int]
) -> ClearWidthResult | None:
    """The narrowest clear width of `zone` given this frame's objects in it; None when it cannot be measured."""
    if camera.calibration is None or zone.type != ZoneType.fire_lane:
        return None
    rows = [i for i, zones in enumerate(zones_of) if zone.id in zones and detections.category[i] != "person"]
    boxes = detections.xyxy[np.asarray(rows, dtype=np.int64)].reshape(-1, 4)
    depths = [FOOTPRINT_DEPTH_M.get(str(detections.category[i]), 1.0) for i in rows]
    lane = to_pixels(zone.polygon, *size)
    return narrowest_clear_width(lane, boxes, camera.calibration, size, footprint_depth_m=depths or 1.0)
