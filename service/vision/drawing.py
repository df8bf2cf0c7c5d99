"""One drawing style for every picture Clearway makes: hazard evidence, `clearway detect`, inspections.

Why one module: a police officer attaches the picture to a notice, so it must read the same wherever it came
from. Objects are boxed in one colour per category and labelled (category and confidence, in the reader's
language); zones are a translucent azure fill with an outline and their human name, a colour no object uses; a
caption band *below* the frame (it never covers the scene, and pixel coordinates stay the frame's) carries
the facts. Shapes are drawn with OpenCV; text with Pillow and a TrueType CJK font (OpenCV's Hershey fonts
have no Chinese). Without a CJK font (service/config/fonts.py says what it looked for) the text falls back to
Pillow's bundled Latin font, with one logged warning: the callers then choose English and ids
(`can_draw`), so a hazard still opens with readable evidence instead of failing or drawing boxes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from service.config.fonts import CjkFontMissingError, find_cjk_font
from service.vision.geometry import to_pixels

log = logging.getLogger(__name__)

Colour = tuple[int, int, int]  # BGR, as the frames are (Pillow draws on the same bytes, so the same tuples)
PALETTE: dict[str, Colour] = {  # objects: one colour per category
    "vehicle": (0, 110, 255),  # orange
    "two_wheeler": (210, 0, 220),  # magenta
    "clutter": (0, 205, 255),  # amber
    "unknown": (255, 70, 150),  # violet: a static object no detector class explains
    "person": (175, 175, 175),  # grey: counted, never an obstruction
}
ZONE: Colour = (230, 160, 0)  # azure, for every zone: never an object's colour
ZONE_FILL_ALPHA = 0.22
BAND: Colour = (40, 31, 26)  # the caption band
BAND_TEXT: Colour = (255, 255, 255)
SEPARATOR = "  ·  "


@dataclass(frozen=True)
class ObjectShape:
    """One object to box: pixel box, palette key (a category or "unknown"), its label; `emphasis` marks the
    object a hazard is about."""

    xyxy: tuple[float, float, float, float]
    key: str
    label: str
    emphasis: bool = False


@dataclass(frozen=True)
class ZoneShape:
    """One zone to fill and outline: normalised polygon and its label."""

    polygon: Sequence[tuple[float, float]]
    label: str


# --- fonts -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _lookup() -> tuple[Path | None, str]:
    try:
        return find_cjk_font(purpose="evidence pictures"), ""
    except CjkFontMissingError as error:
        problem = f"{error}; pictures fall back to English labels and ids"
        log.warning(problem)
        return None, problem


def cjk_font() -> Path | None:
    """The CJK font file, or None (warned once, with what was looked for and how to install one)."""
    return _lookup()[0]


def font_problem() -> str:
    """Why there is no CJK font (what was looked for, how to install one); empty when there is one."""
    return _lookup()[1]


def can_draw(text: str) -> bool:
    """Whether `text` comes out as glyphs (not boxes): any text with the CJK font, ASCII without it."""
    return cjk_font() is not None or text.isascii()


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font()
    if path is None:
        return ImageFont.load_default(size)  # Pillow's bundled Latin font
    return ImageFont.truetype(str(path), size, index=0)


def _text_size(text: str, face: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> tuple[int, int]:
    left, _, right, _ = face.getbbox(text)
    ascent, descent = face.getmetrics()
    return int(right - left), int(ascent + descent)


# --- layout ------------------------------------------------------------------------------------------------
def sizes(width: int, height: int) -> tuple[int, int]:
    """Label and caption font sizes in pixels for a frame: readable on a phone, small beside a 1080p scene."""
    label = max(14, round(min(width, height) / 38))
    caption = max(16, round(max(width, height) / 52))
    return label, caption


def wrap(parts: Sequence[str], face: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: int) -> list[str]:
    """Parts joined by a separator, as many to a line as fit; a part too long on its own is cut between
    characters (Chinese has no spaces to break at)."""
    lines: list[str] = []
    current = ""
    for part in (p for p in parts if p):
        candidate = f"{current}{SEPARATOR}{part}" if current else part
        if _text_size(candidate, face)[0] <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in part:
            if current and _text_size(current + char, face)[0] > max_width:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines


def _ink(colour: Colour) -> Colour:
    """Black or white text, whichever reads on `colour` (BGR)."""
    b, g, r = colour
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


# --- drawing -----------------------------------------------------------------------------------------------
def draw(
    image: np.ndarray,
    zones: Sequence[ZoneShape] = (),
    objects: Sequence[ObjectShape] = (),
    caption: Sequence[Sequence[str]] = (),
    band_over: bool = False,
) -> np.ndarray:
    """A new picture: `image` with its zones and objects drawn and labelled, and, when `caption` has lines
    (each a list of parts), a caption band below it (over the frame's bottom rows with `band_over`, for a
    picture that must keep the photo's size). The frame's pixels keep their coordinates."""
    frame = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    height, width = frame.shape[:2]
    label_px, caption_px = sizes(width, height)
    band_face = font(caption_px)
    lines = [wrapped for parts in caption for wrapped in wrap(parts, band_face, width - 2 * caption_px)]
    line_h = _text_size("Ag隐", band_face)[1] + caption_px // 3
    band = len(lines) * line_h + caption_px if lines else 0
    canvas = np.empty((height + (0 if band_over else band), width, 3), np.uint8)  # one copy of the frame
    out = canvas[:height]
    out[:] = frame
    line = max(2, round(label_px / 9))
    polygons = [to_pixels(z.polygon, width, height).round().astype(np.int32) for z in zones]
    for polygon in polygons:  # the translucent fill, blended over the zone's bounding box only
        x, y, w, h = cv2.boundingRect(polygon)
        roi = out[y : y + h, x : x + w]
        overlay = roi.copy()
        cv2.fillPoly(overlay, [polygon - (x, y)], ZONE)
        cv2.addWeighted(overlay, ZONE_FILL_ALPHA, roi, 1 - ZONE_FILL_ALPHA, 0, dst=roi)
    if polygons:
        cv2.polylines(out, polygons, True, ZONE, line, cv2.LINE_AA)
    for shape in objects:
        x1, y1, x2, y2 = (round(float(v)) for v in shape.xyxy)
        thick = line * 2 if shape.emphasis else line
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 0), thick + 2, cv2.LINE_AA)  # a dark halo: reads anywhere
        cv2.rectangle(out, (x1, y1), (x2, y2), PALETTE.get(shape.key, PALETTE["unknown"]), thick, cv2.LINE_AA)
    if band_over:
        top = max(0, height - band)
        canvas[top:] = (canvas[top:] * 0.25 + np.array(BAND) * 0.75).astype(np.uint8)
    else:
        top = height
        canvas[height:] = BAND
    placed: list[tuple[int, int, int, int]] = []
    label_face = font(label_px)
    for polygon, zone in zip(polygons, zones, strict=True):
        peak = polygon[np.lexsort((polygon[:, 0], polygon[:, 1]))[0]]  # the top vertex, the leftmost of a flat top
        _label(canvas, zone.label, (int(peak[0]), int(peak[1])), ZONE, label_face, (width, height), placed, True)
    for shape in objects:
        x1, y1 = round(float(shape.xyxy[0])), round(float(shape.xyxy[1]))
        colour = PALETTE.get(shape.key, PALETTE["unknown"])
        _label(canvas, shape.label, (x1, y1), colour, label_face, (width, height), placed, False)
    if lines:
        with _region(canvas, 0, top, width, canvas.shape[0]) as pen:
            for n, text in enumerate(lines):
                pen.text((caption_px, caption_px // 2 + n * line_h), text, font=band_face, fill=BAND_TEXT)
    return canvas


def label_size(text: str, frame: tuple[int, int]) -> tuple[int, int]:
    """The width and height a label of `text` takes on a frame of `frame` (width, height) pixels."""
    text_w, text_h = _text_size(text, font(sizes(*frame)[0]))
    pad = max(2, text_h // 6)
    return text_w + 2 * pad, text_h + pad


def put_label(image: np.ndarray, text: str, top_left: tuple[int, int], colour: Colour) -> None:
    """One label in the style of `draw`, on `image` in place (kept inside it): for what other modules draw,
    such as the fire lane's clear width."""
    height, width = image.shape[:2]
    _label(image, text, top_left, colour, font(sizes(width, height)[0]), (width, height), [], True)


@contextmanager
def _region(canvas: np.ndarray, x1: int, y1: int, x2: int, y2: int) -> Iterator[ImageDraw.ImageDraw]:
    """A Pillow pen on one region of `canvas`, written back after: text is drawn on small patches, not by
    copying a whole 1080p frame into Pillow and back."""
    patch = Image.fromarray(np.ascontiguousarray(canvas[y1:y2, x1:x2]))
    yield ImageDraw.Draw(patch)
    canvas[y1:y2, x1:x2] = np.asarray(patch)


def _label(
    canvas: np.ndarray,
    text: str,
    anchor: tuple[int, int],
    colour: Colour,
    face: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    frame: tuple[int, int],
    placed: list[tuple[int, int, int, int]],
    below: bool,
) -> None:
    """A filled label at `anchor` (above it for a box, below a zone's top point), kept inside the frame and
    moved down past labels already placed rather than over them."""
    if not text:
        return
    width, height = frame
    text_w, text_h = _text_size(text, face)
    pad = max(2, text_h // 6)
    box_w, box_h = min(width, text_w + 2 * pad), min(height, text_h + pad)
    x = min(max(0, anchor[0]), max(0, width - box_w))
    y = anchor[1] if below else anchor[1] - box_h
    y = min(max(0, y), max(0, height - box_h))
    for _ in range(8):
        if not any(x < r and r_x < x + box_w and y < b and t_y < y + box_h for r_x, t_y, r, b in placed):
            break
        y = min(y + box_h, max(0, height - box_h))
    placed.append((x, y, x + box_w, y + box_h))
    with _region(canvas, x, y, x + box_w, y + box_h) as pen:
        pen.rectangle((0, 0, box_w - 1, box_h - 1), fill=colour)
        pen.text((pad - face.getbbox(text)[0], pad // 2), text, font=face, fill=_ink(colour))
