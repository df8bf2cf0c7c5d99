"""Scripted CCTV sequences for static-object (abandoned clutter) detection, built from real photographs.

Why: no public clip shows "a pile of boxes appears in a fire lane, then dawn, an IR switch and rain" with
ground truth, so the cases are composed deterministically from photos shipped in installed packages:

- background: the sunlit pavement of ultralytics' `bus.jpg` (real texture, real tree shadows, bollards, feet);
- obstructions: cardboard boxes cut from scikit-image's `motorcycle_left.png` (garage shelf), the motorcycle
  itself cut out with the stereo disparity map shipped next to it, a pallet of bricks (`brick.png`) and a
  gravel heap (`gravel.png`);
- passers-by: the pedestrians of `bus.jpg` (cut as rectangles) and the motorcycle, moving between samples.

Camera effects are applied to the composed scene, as a real camera would: gain ramps (dawn), sudden exposure
jumps, the day/night switch to a grey IR image, moving soft shadows, rain streaks, sensor noise and JPEG.
Frames are "sampled" 30 s apart. Everything is seeded: the same case name gives the same pixels.

    from datasets.static_sequences import build_all
    for case in build_all(): ...   # Case(name, frames, truth, positive)

`python datasets/static_sequences.py OUT_DIR` writes every case as JPEG files plus truth.json.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np

SIZE = (640, 360)
ZONE = [(0.02, 0.62), (0.98, 0.55), (0.98, 0.98), (0.02, 0.98)]
"""The lane drawn on the pavement, normalised."""
INTERVAL_S = 30
START = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


@dataclass
class Case:
    """One scripted sequence: BGR frames, per-frame ground-truth boxes {object id: xyxy}, and its kind."""

    name: str
    frames: list[np.ndarray]
    truth: list[dict[str, tuple[float, float, float, float]]]
    positive: bool
    notes: str = ""
    times: list[datetime] = field(default_factory=list)


def _package_file(module: str, *parts: str) -> Path:
    """A data file inside an installed package, located without importing it (ultralytics imports torch)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {module!r} is not installed: it ships the photos these cases use")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


@cache
def background(size: tuple[int, int] = SIZE) -> np.ndarray:
    """The pavement of ultralytics' bus.jpg (lower part, 16:9), resized to `size`."""
    image = cv2.imread(str(_package_file("ultralytics", "assets", "bus.jpg")))
    return cv2.resize(image[624:1080], size, interpolation=cv2.INTER_AREA)


def _rgba(bgr: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    if alpha is None:
        alpha = np.full(bgr.shape[:2], 255, np.uint8)
    return np.dstack([bgr, alpha])


@cache
def sprites() -> dict[str, np.ndarray]:
    """BGRA cut-outs from real photos (alpha 0 outside the object)."""
    sk = _package_file("skimage", "data")
    moto = cv2.imread(str(sk / "motorcycle_left.png"))
    low_box, big_box, small_box = moto[190:270, 620:680], moto[33:97, 530:590], moto[66:99, 592:636]
    pile = np.zeros((128, 124, 3), np.uint8)
    alpha = np.zeros(pile.shape[:2], np.uint8)
    pile[48:128, 0:60], pile[48:128, 60:124] = low_box, cv2.resize(big_box, (64, 80))
    pile[0:50, 30:92] = cv2.resize(small_box, (62, 50))
    alpha[48:128, :] = 255
    alpha[0:50, 30:92] = 255
    boxes = _rgba(pile, alpha)

    # The motorcycle stands out of the garage floor in the stereo disparity shipped with the photo: the floor's
    # disparity is a plane (linear in the row), fitted on the image's side columns, and the bike is in front.
    disparity = np.load(sk / "motorcycle_disp.npz")["arr_0"]
    disparity = np.where(np.isfinite(disparity), disparity, 0)
    rows = np.arange(300, 500)
    side = np.median(np.hstack([disparity[300:500, :40], disparity[300:500, -40:]]), axis=1)
    slope, offset = np.polyfit(rows, side, 1)
    floor = slope * np.arange(disparity.shape[0]) + offset
    mask = ((disparity > floor[:, None] + 4) & (disparity > 40)).astype(np.uint8)
    mask[:, :40] = 0
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = cv2.morphologyEx((labels == keep).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    x, y, w, h = cv2.boundingRect(mask)
    motorcycle = _rgba(moto[y : y + h, x : x + w], mask[y : y + h, x : x + w] * 255)

    brick = cv2.imread(str(sk / "brick.png"), cv2.IMREAD_GRAYSCALE)[100:260, 60:360]
    tint = np.dstack([brick * 0.55, brick * 0.62, brick * 0.95]).clip(0, 255).astype(np.uint8)
    bricks = _rgba(tint)

    gravel = cv2.imread(str(sk / "gravel.png"), cv2.IMREAD_GRAYSCALE)[150:330, 100:420]
    heap = np.dstack([gravel * 0.8, gravel * 0.85, gravel * 0.9]).astype(np.uint8)
    ellipse = np.zeros(heap.shape[:2], np.uint8)
    cv2.ellipse(ellipse, (160, 180), (158, 170), 0, 180, 360, 255, -1)
    junk = _rgba(heap, ellipse)

    person = _rgba(*_cut_person())
    return {"boxes": boxes, "motorcycle": motorcycle, "bricks": bricks, "junk": junk, "person": person}


def _cut_person() -> tuple[np.ndarray, np.ndarray]:
    """The pedestrian in the beige coat of bus.jpg, cut with GrabCut seeded by a hand-drawn body outline."""
    bus = cv2.imread(str(_package_file("ultralytics", "assets", "bus.jpg")))
    crop = bus[380:910, 20:300].copy()
    mask = np.full(crop.shape[:2], cv2.GC_BGD, np.uint8)
    mask[5:525, 25:205] = cv2.GC_PR_BGD
    cv2.ellipse(mask, (108, 60), (30, 40), 0, 0, 360, cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (45, 90), (185, 515), cv2.GC_PR_FGD, -1)
    cv2.ellipse(mask, (108, 55), (15, 20), 0, 0, 360, cv2.GC_FGD, -1)
    for x1, y1, x2, y2 in ((75, 110, 150, 300), (65, 330, 95, 470), (140, 330, 165, 470)):
        cv2.rectangle(mask, (x1, y1), (x2, y2), cv2.GC_FGD, -1)
    cv2.setRNGSeed(1)
    cv2.grabCut(crop, mask, None, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_MASK)
    alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(alpha)
    return crop[y : y + h, x : x + w], alpha[y : y + h, x : x + w]


HEIGHTS = {"boxes": 100, "motorcycle": 130, "bricks": 70, "junk": 80, "person": 230}
"""Sprite height in pixels (640x360) when standing at the bottom of the image; shrinks with distance."""


def place(scene: np.ndarray, name: str, foot: tuple[float, float]) -> tuple[float, float, float, float]:
    """Paste sprite `name` with its bottom centre at `foot` (pixels), with a soft contact shadow; its box."""
    sprite = sprites()[name]
    height, width = scene.shape[:2]
    scale = (0.45 + 0.55 * foot[1] / height) * HEIGHTS[name] * height / 360 / sprite.shape[0]
    sprite = cv2.resize(sprite, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sh, sw = sprite.shape[:2]
    x0, y0 = round(foot[0] - sw / 2), round(foot[1] - sh)
    x1, y1 = max(x0, 0), max(y0, 0)
    x2, y2 = min(x0 + sw, width), min(y0 + sh, height)
    if x2 <= x1 or y2 <= y1:
        return (0.0, 0.0, 0.0, 0.0)
    shadow = np.zeros((height, width), np.float32)
    cv2.ellipse(shadow, (round(foot[0]), round(foot[1])), (int(sw * 0.6), max(2, int(sh * 0.08))), 0, 0, 360, 0.45, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 3)
    scene[:] = (scene * (1 - shadow[..., None])).astype(np.uint8)
    part = sprite[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0]
    alpha = part[..., 3:4].astype(np.float32) / 255
    region = scene[y1:y2, x1:x2].astype(np.float32)
    scene[y1:y2, x1:x2] = (region * (1 - alpha) + part[..., :3] * alpha).astype(np.uint8)
    ys, xs = np.nonzero(part[..., 3] > 127)
    return (float(x1 + xs.min()), float(y1 + ys.min()), float(x1 + xs.max() + 1), float(y1 + ys.max() + 1))


# Camera effects: functions of (image, frame index, rng) -> image.
Effect = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def gain(values: list[float] | Callable[[int], float], warm: float = 0.0) -> Effect:
    """Multiply by a per-frame gain (a list or a function of the frame index); `warm` tints low light."""

    def apply(image: np.ndarray, i: int, rng: np.random.Generator) -> np.ndarray:
        g = values(i) if callable(values) else values[min(i, len(values) - 1)]
        tint = np.array([1 - warm * (1 - g), 1.0, 1 + warm * (1 - g)], np.float32)
        gamma = np.clip(image.astype(np.float32) / 255, 0, 1) ** (1 + 0.3 * (1 - g))
        return (gamma * 255 * g * tint).clip(0, 255).astype(np.uint8)

    return apply


def night_ir(frames: range) -> Effect:
    """Within `frames`: the day/night switch to a grey IR picture (IR reflectance, dim, noisy)."""

    def apply(image: np.ndarray, i: int, rng: np.random.Generator) -> np.ndarray:
        if i not in frames:
            return image
        b, g, r = (image[..., c].astype(np.float32) for c in range(3))
        grey = 0.15 * b + 0.3 * g + 0.55 * r
        grey = 255 * (grey / 255) ** 0.8 * 0.7 + 10 + 6 * rng.standard_normal(grey.shape, dtype=np.float32)
        return np.repeat(grey.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)

    return apply


def moving_shadow(strength: float = 0.5) -> Effect:
    """A soft cloud/tree shadow that drifts across the scene between samples."""

    def apply(image: np.ndarray, i: int, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        mask = np.zeros((h, w), np.float32)
        cx = (i * 97) % (w + 300) - 150
        axes = (int(w * (0.12 + 0.05 * (i % 3))), int(h * 0.18))
        cv2.ellipse(mask, (int(cx), int(h * (0.6 + 0.25 * ((i * 37) % 5) / 5))), axes, (i * 23) % 180, 0, 360, 1, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 12)
        return (image * (1 - strength * mask[..., None])).astype(np.uint8)

    return apply


def rain(streaks: int = 400, noise: float = 7.0) -> Effect:
    """Rain: bright motion streaks and heavier sensor noise, fresh every frame."""

    def apply(image: np.ndarray, i: int, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        layer = np.zeros((h, w), np.uint8)
        for x, y, length in zip(
            rng.integers(0, w, streaks), rng.integers(0, h, streaks), rng.integers(6, 18, streaks), strict=True
        ):
            cv2.line(layer, (int(x), int(y)), (int(x + length // 4), int(y + length)), 70, 1)
        out = (
            image.astype(np.float32)
            + layer[..., None] * 0.8
            + noise * rng.standard_normal(image.shape, dtype=np.float32)
        )
        return out.clip(0, 255).astype(np.uint8)

    return apply


def _sensor(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = (
        (image.astype(np.float32) + 2.0 * rng.standard_normal(image.shape, dtype=np.float32))
        .clip(0, 255)
        .astype(np.uint8)
    )
    ok, data = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else noisy


@dataclass(frozen=True)
class Script:
    """What a case does: static objects (name, foot, first frame, last frame), passers-by and effects."""

    name: str
    frames: int
    objects: tuple[tuple[str, tuple[float, float], int, int], ...] = ()
    passers: tuple[str, ...] = ()
    in_reference: tuple[tuple[str, tuple[float, float], int, int], ...] = ()
    effects: tuple[Effect, ...] = ()
    notes: str = ""


def render(script: Script, size: tuple[int, int] = SIZE, seed: int = 0) -> Case:
    """Compose every frame of a script; truth lists the static objects present in each frame."""
    rng = np.random.default_rng(zlib.crc32(script.name.encode()) + seed)
    base = background(size)
    sx, sy = size[0] / SIZE[0], size[1] / SIZE[1]
    frames, truth, times = [], [], []
    for i in range(script.frames):
        scene = base.copy()
        present: dict[str, tuple[float, float, float, float]] = {}
        for k, (name, (fx, fy), first, last) in enumerate(script.objects):
            if first <= i <= last:
                present[f"{name}{k}"] = place(scene, name, (fx * sx, fy * sy))
        for name, (fx, fy), first, last in script.in_reference:  # not truth: part of the learned scene
            if first <= i <= last:
                place(scene, name, (fx * sx, fy * sy))
        for k, name in enumerate(script.passers):
            x = rng.uniform(40, SIZE[0] - 40) * sx
            y = rng.uniform(230, 350) * sy
            if rng.random() < 0.8 and (k + i) % 2 == 0:
                place(scene, name, (x, y))
        for effect in script.effects:
            scene = effect(scene, i, rng)
        frames.append(_sensor(scene, rng))
        truth.append(present)
        times.append(START + timedelta(seconds=INTERVAL_S * i))
    positive = bool(script.objects)
    return Case(script.name, frames, truth, positive, script.notes, times)


def _dawn(i: int) -> float:
    return float(np.clip(0.25 + 0.03 * i, 0.25, 1.1))


SCRIPTS: tuple[Script, ...] = (
    Script(
        "boxes_day",
        24,
        objects=(("boxes", (300, 300), 6, 99),),
        passers=("person",),
        notes="a stack of cardboard boxes is left in the lane; pedestrians pass",
    ),
    Script(
        "motorcycle_parked",
        24,
        objects=(("motorcycle", (420, 330), 5, 99),),
        passers=("person",),
        notes="a motorcycle is parked in the lane (YOLO would call it two_wheeler)",
    ),
    Script(
        "bricks_dawn",
        28,
        objects=(("bricks", (200, 320), 8, 99),),
        effects=(gain(_dawn, warm=0.3),),
        notes="building materials dumped during a dawn lighting ramp (gain 0.25 -> 1.1)",
    ),
    Script(
        "junk_exposure",
        26,
        objects=(("junk", (480, 290), 5, 99),),
        effects=(gain([1.0] * 12 + [1.6] * 8 + [0.7] * 6),),
        notes="a heap of junk, then auto-exposure jumps up x1.6 and down to x0.7",
    ),
    Script(
        "boxes_night",
        28,
        objects=(("boxes", (250, 310), 6, 99),),
        effects=(night_ir(range(14, 28)),),
        notes="boxes left at dusk; the camera switches to grey IR while they stay",
    ),
    Script(
        "boxes_shadows_rain",
        26,
        objects=(("boxes", (380, 290), 6, 99),),
        effects=(moving_shadow(), rain()),
        notes="boxes under drifting shadows and rain",
    ),
    Script(
        "boxes_removed",
        26,
        objects=(("boxes", (300, 300), 4, 14),),
        passers=("person",),
        notes="boxes left, then taken away: no alarm may remain after removal",
    ),
    Script(
        "two_objects",
        24,
        objects=(("bricks", (150, 330), 4, 99), ("motorcycle", (470, 310), 9, 99)),
        effects=(moving_shadow(0.35),),
        notes="bricks then a motorcycle, under a drifting shadow",
    ),
    Script(
        "quiet_ghost",
        26,
        in_reference=(("boxes", (330, 300), 0, 9),),
        passers=("person",),
        notes="nothing happens after start-up: boxes already there when the model starts, taken away at 10",
    ),
    Script("quiet_lighting_ramp", 30, effects=(gain(_dawn, warm=0.3),), notes="nothing happens: dawn"),
    Script(
        "quiet_exposure_jumps",
        30,
        effects=(gain([1.0, 1.0, 1.7, 1.7, 0.6, 0.6, 1.0, 1.4, 0.8] * 4),),
        notes="nothing happens: auto exposure jumps every few samples",
    ),
    Script("quiet_night_ir", 30, effects=(night_ir(range(10, 22)),), notes="nothing happens: day -> IR -> day"),
    Script("quiet_shadows", 30, effects=(moving_shadow(0.6),), notes="nothing happens: drifting shadows"),
    Script("quiet_rain", 30, effects=(rain(600, 9.0),), notes="nothing happens: heavy rain and noise"),
    Script(
        "quiet_passers_by",
        30,
        passers=("person", "motorcycle", "person"),
        notes="nothing happens: people and a motorcycle pass through, never twice at the same place",
    ),
    Script(
        "quiet_everything",
        30,
        passers=("person",),
        effects=(gain(_dawn), moving_shadow(0.4), night_ir(range(22, 30)), rain(300, 5.0)),
        notes="nothing happens: dawn, shadows, rain, passers-by, then IR",
    ),
)


def build(name: str, size: tuple[int, int] = SIZE, seed: int = 0) -> Case:
    script = next(s for s in SCRIPTS if s.name == name)
    return render(script, size, seed)


def build_all(size: tuple[int, int] = SIZE, seed: int = 0) -> list[Case]:
    return [render(s, size, seed) for s in SCRIPTS]


def write(out_dir: Path, size: tuple[int, int] = SIZE) -> None:
    """Write every case as numbered JPEGs plus truth.json (boxes in pixels)."""
    for case in build_all(size):
        folder = out_dir / case.name
        folder.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(case.frames):
            cv2.imwrite(str(folder / f"{i:03d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
        meta = {"positive": case.positive, "notes": case.notes, "zone": ZONE, "truth": case.truth}
        (folder / "truth.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "static_sequences"))
