"""The evidence files of a newly opened hazard: the original upload, the annotated picture, a thumbnail.

Why separate from the pipeline: what a recipient sees (zone outline, highlighted object, caption, the fire
lane's narrowest cross-section) is a presentation decision; the pipeline only decides *when* evidence is due.
Each file is stored with its SHA-256 in the same transaction as the hazard.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.config.site import Camera
from service.hazards.engine import HazardChange
from service.store import models as m
from service.store.evidence import EvidenceStore
from service.vision.annotate import annotate, encode_jpeg, thumbnail
from service.vision.clear_width import ClearWidthResult
from service.vision.overlay_clear_width import draw_clear_width
from service.vision.types import Detections, Frame


def is_png(encoded: bytes) -> bool:
    return encoded[:4] == b"\x89PNG"


def save_hazard_evidence(
    session: Session,
    store: EvidenceStore,
    hazard: m.HazardEvent,
    camera: Camera,
    frame: Frame,
    encoded: bytes,
    change: HazardChange,
    clear_width: ClearWidthResult | None = None,
) -> None:
    zone = next(z for z in camera.zones if z.id == change.zone_id)
    dwell = (change.at - change.first_seen_at).total_seconds()
    caption = f"{zone.type.value} {zone.id}: {change.class_name.replace('_', ' ')} for {dwell:.0f}s"
    picture = annotate(
        frame.image,
        [(zone.id, zone.type.value, zone.polygon)],
        Detections.empty(),
        frame.captured_at,
        highlight=change.box,
        caption=caption,
    )
    if clear_width is not None:
        draw_clear_width(picture, clear_width, camera.min_clear_width_m)
    base = f"hazards/{hazard.id}"
    files = {
        "original": (f"{base}/original{'.png' if is_png(encoded) else '.jpg'}", encoded, media_type(encoded)),
        "annotated": (f"{base}/annotated.jpg", encode_jpeg(picture), "image/jpeg"),
        "thumbnail": (f"{base}/thumbnail.jpg", encode_jpeg(thumbnail(picture), 80), "image/jpeg"),
    }
    for kind, (path, data, media) in files.items():
        stored = store.save(path, data)
        session.add(
            m.Evidence(
                hazard_id=hazard.id,
                kind=kind,
                frame_id=hazard.latest_frame_id,
                path=stored.relative_path,
                media_type=media,
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
            )
        )


def media_type(encoded: bytes) -> str:
    return "image/png" if is_png(encoded) else "image/jpeg"
