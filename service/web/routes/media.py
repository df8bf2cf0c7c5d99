"""Frame images (first seen, latest, verified clear, the zone editor's background), scope-checked and
hash-verified like evidence, audited like evidence, never cached. Keys and sessions alike may read them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response

from service.api.deps import Services, require, services
from service.api.routes.hazards import READERS
from service.auth.audit import audit
from service.auth.keys import Principal
from service.auth.scope import can_see_compound
from service.store import models as m
from service.store.evidence import EvidenceTamperedError

router = APIRouter(prefix="/web", include_in_schema=False)


@router.get("/frames/{frame_id}")
def frame_image(frame_id: str, who: Principal = Depends(require(*READERS)), svc: Services = Depends(services)):
    with svc.db.session() as session:
        frame = session.get(m.FrameRecord, frame_id)
        camera = session.get(m.Camera, frame.camera_id) if frame else None
        if frame is None or camera is None or not can_see_compound(session, who, camera.compound_id):
            raise HTTPException(404, "frame not found")
        if frame.image_path is None:
            raise HTTPException(404, "this frame's image was not kept")
        audit(session, who, "evidence.view", "frame", frame.id, frame.camera_id)
        path, sha = frame.image_path, frame.sha256
    try:
        data = svc.evidence.read_verified(path, sha)
    except FileNotFoundError:
        raise HTTPException(410, "frame image is missing from storage") from None
    except EvidenceTamperedError as exc:
        raise HTTPException(409, str(exc)) from None
    media = "image/png" if data[:4] == b"\x89PNG" else "image/jpeg"
    return Response(data, media_type=media, headers={"X-Content-SHA256": sha, "Cache-Control": "private, no-store"})
