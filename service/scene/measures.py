"""Image measures behind the static-object model (service/scene/detector.py): change tests that
ignore lighting, brightness fitting, start-up consensus, ghost outlines. Pure functions on grey float32 images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

NormalisedPolygon = Sequence[tuple[float, float]]
Window = tuple[int, int, int, int]  # x0, y0, x1, y1 in work pixels, end exclusive


def polygon_mask(polygons: Sequence[NormalisedPolygon], size: tuple[int, int]) -> np.ndarray:
    """Boolean mask (height, width) of normalised polygons drawn at `size` (width, height)."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    for poly in polygons:
        pts = (np.asarray(poly, np.float64) * np.array(size, np.float64)).round().astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def zones_window(polygons: Sequence[NormalisedPolygon], size: tuple[int, int], margin: float) -> Window:
    """The zones' bounding box at `size`, widened on each side by `margin` times its own extent and at least a
    tenth of the picture: room for the brightness fit around the zones, and for the whole-scene test (a
    camera switching to IR changes the zones' surroundings too, one object rarely all of them)."""
    width, height = size
    points = np.asarray([p for poly in polygons for p in poly], np.float64).reshape(-1, 2)
    if len(points) == 0:
        return 0, 0, width, height
    lo, hi = np.clip(points.min(axis=0), 0, 1), np.clip(points.max(axis=0), 0, 1)
    pad = np.maximum(margin * (hi - lo), 0.1)
    lo, hi = np.clip(lo - pad, 0, 1), np.clip(hi + pad, 0, 1)
    x0, y0 = int(np.floor(lo[0] * width)), int(np.floor(lo[1] * height))
    x1, y1 = int(np.ceil(hi[0] * width)), int(np.ceil(hi[1] * height))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def shift_window(array: np.ndarray, old: Window, new: Window, fill: float | bool = 0) -> np.ndarray:
    """`array` (its last two axes over window `old`) over window `new`: shared pixels copied, the rest `fill`."""
    out = np.full((*array.shape[:-2], new[3] - new[1], new[2] - new[0]), fill, array.dtype)
    x0, y0 = max(old[0], new[0]), max(old[1], new[1])
    x1, y1 = min(old[2], new[2]), min(old[3], new[3])
    if x0 < x1 and y0 < y1:
        out[..., y0 - new[1] : y1 - new[1], x0 - new[0] : x1 - new[0]] = array[
            ..., y0 - old[1] : y1 - old[1], x0 - old[0] : x1 - old[0]
        ]
    return out


def fit_gain_offset(grey: np.ndarray, target: np.ndarray, trusted: np.ndarray) -> tuple[float, float]:
    """Gain and offset with grey ~ gain * target + offset: trimmed least squares on trusted pixels."""
    x, y = target[trusted][::3].astype(np.float64), grey[trusted][::3].astype(np.float64)
    if len(x) < 50 or np.std(x) < 1e-3:
        return 1.0, 0.0
    keep = np.ones(len(x), bool)
    gain, offset = 1.0, 0.0
    for _ in range(3):
        xs, ys = x[keep], y[keep]
        mx, my = xs.mean(), ys.mean()
        vx = np.mean((xs - mx) ** 2)
        if vx < 1e-9:
            break
        gain = float(np.mean((xs - mx) * (ys - my)) / vx)
        offset = float(my - gain * mx)
        residual = np.abs(y - (gain * x + offset))
        keep = residual <= max(3.0, 2.5 * 1.4826 * np.median(residual[keep]))
        if keep.sum() < 50:
            break
    if not np.isfinite(gain) or gain < 0.05:
        return 1.0, 0.0
    return float(gain), float(offset)


def change_masks(
    a: np.ndarray, b: np.ndarray, c: float, window: int, structure_threshold: float, ratio_low: float, ratio_high: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: (structure differs, brightness differs beyond shadow/light) between two aligned images.

    Structure is SSIM's contrast-structure term over a `window` box (gain/offset invariant, so lighting and soft
    shadows do not count); `c` stabilises flat areas (scaled to the scene's contrast by the caller). Brightness
    counts only outside the ratio band a shadow or a lamp can explain.
    """
    k = (window, window)
    mean_a, mean_b = cv2.blur(a, k), cv2.blur(b, k)
    var_a = np.maximum(cv2.blur(a * a, k) - mean_a * mean_a, 0)
    var_b = np.maximum(cv2.blur(b * b, k) - mean_b * mean_b, 0)
    cov = cv2.blur(a * b, k) - mean_a * mean_b
    sd = np.sqrt(var_a * var_b)
    similarity = ((2 * sd + c) / (var_a + var_b + c)) * ((cov + c / 2) / (sd + c / 2))
    ratio = (mean_a + 8) / (mean_b + 8)
    return similarity < 1 - structure_threshold, (ratio < ratio_low) | (ratio > ratio_high)


def consensus(
    samples: list[np.ndarray], same: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the look most samples agree on, averaged over those samples; and where 3+ agree.

    A plain median fails when passers-by cover a spot in most samples (busy pavement): their looks differ from
    each other, while the empty ground looks the same every time it shows. Ties go to the most recent look
    (someone who lingered early on), no agreement at all to the median.
    """
    stack = np.stack(samples).astype(np.float32)
    n = len(stack)
    agree = np.zeros((n, n, *stack.shape[1:]), bool)
    for i in range(n):
        for j in range(i + 1, n):
            agree[i, j] = agree[j, i] = same(stack[i], stack[j])
    support = agree.sum(axis=1)
    best = n - 1 - np.argmax(support[::-1], axis=0)
    rows, cols = np.indices(best.shape)
    members = agree[best, :, rows, cols].transpose(2, 0, 1) | (np.arange(n)[:, None, None] == best)
    mean = (stack * members).sum(axis=0) / members.sum(axis=0)
    most = support.max(axis=0)
    reference = np.where(most > 0, mean, np.median(stack, axis=0)).astype(np.float32)
    return reference, most >= 2


def outline_edge(image: np.ndarray, blob: np.ndarray) -> float:
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


def global_change(changed: np.ndarray, fraction: float) -> bool:
    """The whole picture changed (IR switch, camera moved), not one big object: on average `fraction` of each
    image quadrant changed, and at least half that in every quadrant."""
    h, w = changed.shape
    quarters = [
        changed[: h // 2, : w // 2],
        changed[: h // 2, w // 2 :],
        changed[h // 2 :, : w // 2],
        changed[h // 2 :, w // 2 :],
    ]
    share = [float(q.mean()) for q in quarters]
    return float(np.mean(share)) > fraction and min(share) > fraction / 2


def clean(mask: np.ndarray) -> np.ndarray:
    """Drop isolated pixels (noise, rain), keep blobs."""
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def dilate(mask: np.ndarray, size: int = 3) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool)
