"""The pictures a newly opened hazard carries: the annotated frame and its thumbnail, as JPEG bytes.

Why here: what a recipient sees (zone outline, highlighted object, caption, the fire lane's narrowest
cross-section) is drawing; the store only saves the bytes this returns and their hashes.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from service.config.site import Zone
from service.vision.annotate import annotate, encode_jpeg, thumbnail
from service.vision.clear_width import ClearWidthResult, draw_clear_width
from service.vision.types import Detections


def hazard_pictures(
    image: np.ndarray,
    zone: Zone,
    box: tuple[float, float, float, float],
    class_name: str,
    dwell_s: float,
    captured_at: datetime,
    clear_width: ClearWidthResult | None = None,
    minimum_clear_width_m: float = 4.0,
) -> dict[str, bytes]:
    """{"annotated": ..., "thumbnail": ...}: the zone, the object highlighted, what and how long, the width."""
    caption = f"{zone.type.value} {zone.id}: {class_name.replace('_', ' ')} for {dwell_s:.0f}s"
    picture = annotate(
        image,
        [(zone.id, zone.type.value, zone.polygon)],
        Detections.empty(),
        captured_at,
        highlight=box,
        caption=caption,
    )
    if clear_width is not None:
        draw_clear_width(picture, clear_width, minimum_clear_width_m)
    return {"annotated": encode_jpeg(picture), "thumbnail": encode_jpeg(thumbnail(picture), 80)}
