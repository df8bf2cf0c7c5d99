"""Draw the evidence picture: zone polygons, boxes with labels, the offending object highlighted, the time.

OpenCV's Hershey fonts only, so nothing is fetched at run time (labels are ASCII).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import cv2
import numpy as np

from service.vision.geometry import to_pixels
from service.vision.types import Detections

ZONE_COLOURS = {  # BGR
    "fire_lane": (0, 0, 230),
    "stairwell": (0, 140, 255),
    "evacuation_route": (0, 200, 255),
    "safety_exit": (60, 180, 0),
    "perimeter_road": (200, 120, 0),
}
CATEGORY_COLOURS = {
    "vehicle": (255, 90, 30),
    "two_wheeler": (200, 0, 200),
    "clutter": (0, 170, 255),
    "person": (160, 160, 160),
}
HIGHLIGHT = (0, 0, 255)


def _text_width(text: str, scale: float) -> int:
    return cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, round(scale * 2)))[0][0]


def _label(image: np.ndarray, text: str, origin: tuple[int, int], colour: tuple[int, int, int], scale: float) -> None:
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = origin
    y = max(y, h + base + 2)
    cv2.rectangle(image, (x, y - h - base - 2), (x + w + 4, y), colour, -1)
    cv2.putText(
        image, text, (x + 2, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA
    )


def annotate(
    image: np.ndarray,
    zones: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    detections: Detections,
    captured_at: datetime | None = None,
    highlight: Sequence[float] | None = None,
    caption: str = "",
) -> np.ndarray:
    """A copy of `image` with zones (id, type, normalised polygon), detections and the highlighted box."""
    out = image.copy()
    height, width = out.shape[:2]
    scale = max(0.4, min(width, height) / 900)
    overlay = out.copy()
    for zone_id, zone_type, polygon in zones:
        points = to_pixels(polygon, width, height).round().astype(np.int32)
        colour = ZONE_COLOURS.get(zone_type, (0, 0, 230))
        cv2.fillPoly(overlay, [points], colour)
        cv2.polylines(out, [points], True, colour, max(2, round(scale * 3)), cv2.LINE_AA)
        top = points[np.argmin(points[:, 1])]
        _label(out, f"{zone_type}:{zone_id}", (int(top[0]), int(top[1])), colour, scale * 0.8)
    out = cv2.addWeighted(overlay, 0.18, out, 0.82, 0)
    for i in range(len(detections)):
        x1, y1, x2, y2 = (round(float(v)) for v in detections.xyxy[i])
        colour = CATEGORY_COLOURS.get(str(detections.category[i]), (255, 255, 255))
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, max(1, round(scale * 2)), cv2.LINE_AA)
        text = f"{detections.class_name[i]} {float(detections.confidence[i]):.2f}"
        _label(out, text, (x1, y1), colour, scale * 0.7)
    if highlight is not None:
        x1, y1, x2, y2 = (round(float(v)) for v in highlight)
        cv2.rectangle(out, (x1, y1), (x2, y2), HIGHLIGHT, max(3, round(scale * 5)), cv2.LINE_AA)
    footer = " | ".join(
        part for part in (captured_at.strftime("%Y-%m-%d %H:%M:%S UTC") if captured_at else "", caption) if part
    )
    if footer:
        footer_scale = scale * 0.8
        while footer_scale > 0.3 and _text_width(footer, footer_scale) > width - 12:
            footer_scale *= 0.9  # shrink to fit the frame rather than cut the caption off
        _label(out, footer, (4, height - 4), (40, 40, 40), footer_scale)
    return out


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode JPEG")
    return buffer.tobytes()


def thumbnail(image: np.ndarray, max_side: int = 320) -> np.ndarray:
    height, width = image.shape[:2]
    factor = max_side / max(height, width)
    if factor >= 1:
        return image
    return cv2.resize(image, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)
