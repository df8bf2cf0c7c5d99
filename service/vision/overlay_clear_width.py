"""Draw the clear width on the evidence picture: the narrowest cross-section and its width in metres.

Why: a recipient must see at a glance where the lane is narrowest and by how much it misses the minimum.
OpenCV's Hershey font only (ASCII), nothing fetched at run time; drawn in place on a BGR image.
"""

from __future__ import annotations

import cv2
import numpy as np

from service.vision.clear_width import ClearWidthResult

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
    text = f"clear {result.width_m:.2f} m {verdict} {minimum_m:.1f} m"
    font_scale = 0.7 * scale
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, max(1, thickness - 1))
    mid = (p1 + p2) / 2
    x = int(np.clip(mid[0] - tw / 2, 0, max(0, width - tw - 4)))
    above = min(p1[1], p2[1]) - abs(tick[1]) - 6 * scale  # label clear of the line and its ticks
    below = max(p1[1], p2[1]) + abs(tick[1]) + th + base + 6 * scale
    y = int(above if above - th - base - 2 >= 0 else min(below, height - 2))
    cv2.rectangle(image, (x, y - th - base - 2), (x + tw + 4, y + 2), colour, -1)
    cv2.putText(
        image,
        text,
        (x + 2, y - base + 1),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (255, 255, 255),
        max(1, thickness - 1),
        cv2.LINE_AA,
    )
    return image
