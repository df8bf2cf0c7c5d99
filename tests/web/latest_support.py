"""A demo site with two more cameras of the Lanting compound: one just installed (no zones yet) and one with
a zone but the unknown-object watch off in the site file; and pushing frames to them as the admin."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import yaml
from PIL import Image

from service.config.settings import DEMO_SITE
from service.config.site import load_site
from tests.api.conftest import Harness
from tests.support import detections, png_bytes
from tests.web.support import T0

NEW = "lanting-new"
NO_STATIC = "lanting-nostatic"


def site_with_new_cameras(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["cameras"] += [
        {"id": NEW, "compound": "lanting", "name": "Bike shed (new)"},
        {
            "id": NO_STATIC,
            "compound": "lanting",
            "name": "Back lane",
            "static_objects": False,
            "zones": [{"id": "back-lane", "type": "fire_lane", "polygon": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}],
        },
    ]
    path = tmp_path / "site-with-new-cameras.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_site(path)  # a wrong test site fails here, with the site error
    return path


def jpeg_bytes(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG upload (what most cameras send): the latest view must keep these very bytes."""
    png, _ = png_bytes(seed, size)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def push_as_admin(h: Harness, camera: str, seconds: float, *objects, seed: int = 1, kind: str = "png") -> dict:
    if kind == "png":
        body, image = png_bytes(seed)
        h.detector.register(image, detections(*objects))
    else:  # decoded by the service's own decoder: only frames without objects (the detector keys on pixels)
        assert not objects
        body = jpeg_bytes(seed)
    response = h.client.post(
        f"/api/v1/cameras/{camera}/frames",
        content=body,
        headers=h.headers("admin") | {"Content-Type": f"image/{'png' if kind == 'png' else 'jpeg'}"},
        params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
    )
    assert response.status_code == 201, response.text
    return response.json() | {"sent": body}
