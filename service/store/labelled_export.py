"""Reviewed hazards as training data: confirmed ones are positives, dismissed ones negatives.

    OUT/positives/images/<hazard>.jpg   OUT/positives/labels/<hazard>.txt   (YOLO: class cx cy w h, 0..1)
    OUT/negatives/images/<hazard>.jpg   (no YOLO file: the image may hold other, real objects)
    OUT/classes.txt                     OUT/labels.json (every item, with boxes in pixels and the reason)

Images are the unaltered originals, read through the hash check, so a tampered file is never exported.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.store import models as m
from service.store.db import Database
from service.store.evidence import EvidenceStore, EvidenceTamperedError
from service.store.lifecycle import HazardStatus
from service.store.queries import box_in_frame


@dataclass
class ExportSummary:
    positives: int = 0
    negatives: int = 0
    skipped: int = 0


def _label(hazard: m.HazardEvent) -> str | None:
    if hazard.status == HazardStatus.dismissed:
        return "negative"
    return "positive" if hazard.confirmed else None


def _size(session: Session, frame_id: str | None, data: bytes) -> tuple[int, int]:
    frame = session.get(m.FrameRecord, frame_id) if frame_id else None
    if frame is not None:
        return frame.width, frame.height
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def export_labelled(db: Database, evidence: EvidenceStore, out: Path) -> ExportSummary:
    """Write every confirmed or dismissed hazard's original image and box under `out`."""
    summary, items = ExportSummary(), []
    query = (
        select(m.HazardEvent)
        .where(or_(m.HazardEvent.status == HazardStatus.dismissed.value, m.HazardEvent.confirmed.is_(True)))
        .order_by(m.HazardEvent.id)
    )
    with db.session() as session:
        hazards = list(session.scalars(query))
        classes = sorted({h.class_name for h in hazards if _label(h) == "positive"})
        for hazard in hazards:
            label = _label(hazard)
            original = next((e for e in hazard.evidence if e.kind == "original"), None)
            if label is None or original is None:
                summary.skipped += 1
                continue
            try:
                data = evidence.read_verified(original.path, original.sha256)
            except (FileNotFoundError, EvidenceTamperedError):
                summary.skipped += 1
                continue
            width, height = _size(session, original.frame_id, data)
            box = box_in_frame(session, hazard, original.frame_id)
            folder = out / ("positives" if label == "positive" else "negatives")
            image_name = f"{hazard.id}{Path(original.path).suffix or '.jpg'}"
            (folder / "images").mkdir(parents=True, exist_ok=True)
            (folder / "images" / image_name).write_bytes(data)
            if label == "positive":
                (folder / "labels").mkdir(parents=True, exist_ok=True)
                cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
                w, h = (box[2] - box[0]) / width, (box[3] - box[1]) / height
                line = f"{classes.index(hazard.class_name)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n"
                (folder / "labels" / f"{hazard.id}.txt").write_text(line)
                summary.positives += 1
            else:
                summary.negatives += 1
            items.append(
                {
                    "hazard_id": hazard.id,
                    "label": label,
                    "image": str((folder / "images" / image_name).relative_to(out)),
                    "sha256": original.sha256,
                    "width": width,
                    "height": height,
                    "class_name": hazard.class_name,
                    "category": hazard.category,
                    "box_xyxy": [round(v, 2) for v in box],
                    "camera_id": hazard.camera_id,
                    "zone_type": hazard.zone_type,
                    "dismiss_reason": hazard.dismiss_reason,
                }
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / "classes.txt").write_text("".join(f"{c}\n" for c in classes))
    manifest = {"classes": classes, "items": items}
    (out / "labels.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return summary
