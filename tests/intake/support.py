"""Helpers for the inspection tests: the real photo (Ultralytics' bus.jpg), posting an inspection."""

from __future__ import annotations

import io
from functools import lru_cache
from importlib.resources import files

import numpy as np
from PIL import Image

from service.vision.decoding import decode_image
from tests.api.conftest import Harness
from tests.support import detections

BUS_BOX = (20.0, 230.0, 805.0, 750.0)  # where the bus is in bus.jpg (810x1080)


@lru_cache(maxsize=1)
def bus_jpg() -> bytes:
    """The installed Ultralytics package's own sample photo: a real JPEG from a street."""
    return (files("ultralytics") / "assets" / "bus.jpg").read_bytes()


def decoded(data: bytes) -> np.ndarray:
    return decode_image(data, 40_000_000)[0]


def photo_png(seed: int, size: tuple[int, int] = (120, 90)) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def see_bus(h: Harness) -> None:
    """The scripted model finds the bus and a person on bus.jpg."""
    h.detector.register(
        decoded(bus_jpg()),
        detections(("bus", "vehicle", BUS_BOX), ("person", "person", (50, 400, 240, 900))),
    )


def inspect(
    h: Harness,
    who: str,
    photos: list[bytes] | None = None,
    after: bytes | None = None,
    headers: dict[str, str] | None = None,
    **fields: str,
):
    """POST /api/v1/hazards as `who` (a harness key name) with the bus photo unless told otherwise."""
    data = {"kind": "lane_obstruction", "compound": "lanting", "location": "Building 3, north gate"} | fields
    parts = [
        ("photo", (f"p{i}.jpg", p, "image/jpeg")) for i, p in enumerate(photos if photos is not None else [bus_jpg()])
    ]
    if after is not None:
        parts.append(("after_photo", ("after.png", after, "image/png")))
    return h.client.post("/api/v1/hazards", data=data, files=parts or None, headers=headers or h.headers(who))


def stored(h: Harness) -> tuple[int, int]:
    """(hazards in the ledger, evidence files on disk)."""
    listed = h.client.get("/api/v1/hazards", params={"limit": 500}, headers=h.headers("admin")).json()["items"]
    root = h.settings.evidence_dir
    return len(listed), sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
