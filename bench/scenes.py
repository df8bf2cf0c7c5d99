"""The pipeline benchmark's scenes: a bus parked in a fire lane, as a photo and as camera-sized frames.

A benchmark on unrelated photos measures a service with nothing to do after the model: no object in a zone,
no dwell, no evidence. Cameras that matter see a vehicle standing in a fire lane for minutes, so every scene
here is ultralytics' bus.jpg (810x1080, a bus across the street) with a fire lane drawn under the bus, and
frames 5 s apart open a hazard once the dwell (60 s) has passed, then update it, as a parked car does.
The site has as many cameras as the bench pushes at once (`site`), all looking at the same street.

- photo: bus.jpg as it is.
- 1080p, 4k: the photo scaled to the frame's height, in the middle of a 16:9 frame whose sides are filled by
  mirrored copies of it (a wide street, no black bars), encoded as JPEG (quality 90) like a camera's snapshot.

The photo is scaled by the frame's height and the zone is a full-width band, so one normalised polygon lies
under the bus in all three scenes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

ZONE = "lane"
SIZES: dict[str, tuple[int, int] | None] = {"photo": None, "1080p": (1920, 1080), "4k": (3840, 2160)}
AGENCIES = [
    {"id": "pm", "name": "Property Co", "kind": "property_company"},
    {"id": "ps", "name": "Police Station", "kind": "police_station"},
]


def camera_ids(count: int) -> list[str]:
    return [f"bench-cam-{i + 1}" for i in range(count)]


def site(cameras: int) -> dict:
    """One compound, `cameras` cameras that all look at the scene, each with the fire lane under the bus."""
    lane = {
        "id": ZONE,
        "type": "fire_lane",
        "dwell_seconds": 60,
        # The bus's bottom band (its wheels stand at y ~0.73 of the photo's height).
        "polygon": [[0.0, 0.6], [1.0, 0.6], [1.0, 0.8], [0.0, 0.8]],
    }
    return {
        "agencies": AGENCIES,
        "compounds": [{"id": "estate", "name": "Estate", "property_company": "pm", "police_station": "ps"}],
        "cameras": [{"id": c, "compound": "estate", "zones": [lane]} for c in camera_ids(cameras)],
    }


def photo() -> np.ndarray:
    """ultralytics' bus.jpg, shipped in the installed package (nothing downloaded)."""
    import ultralytics

    path = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"ultralytics' bus.jpg is missing ({path.name})")
    return image


def scene(name: str) -> np.ndarray:
    """The scene's picture: the photo itself, or the photo widened to a camera's frame by mirrored copies."""
    image = photo()
    size = SIZES[name]
    if size is None:
        return image
    width, height = size
    centre = cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height), interpolation=cv2.INTER_AREA)
    mirrored = centre[:, ::-1]
    # centre, then alternating mirrored/plain copies outwards, so every seam is continuous
    strip = [centre]
    while sum(p.shape[1] for p in strip) < width + 2 * centre.shape[1]:
        side = mirrored if len(strip) % 4 in (1, 2) else centre
        strip = [side, *strip, side]
    wide = np.concatenate(strip, axis=1)
    left = (wide.shape[1] - width) // 2
    return np.ascontiguousarray(wide[:, left : left + width])


def frames(name: str, count: int, seed: int = 0) -> list[bytes]:
    """`count` JPEGs of the scene, each made distinct by a little noise (the service refuses byte-identical
    duplicates), encoded once here so the bare loop and the service decode the very same bytes."""
    base = scene(name)
    rng = np.random.default_rng(seed)
    quality = [cv2.IMWRITE_JPEG_QUALITY, 90]
    result = []
    for _ in range(count):
        noisy = np.clip(base.astype(np.int16) + rng.integers(-2, 3, base.shape, dtype=np.int16), 0, 255)
        result.append(cv2.imencode(".jpg", noisy.astype(np.uint8), quality)[1].tobytes())
    return result
