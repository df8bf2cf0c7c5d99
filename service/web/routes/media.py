"""Frame images (first seen, latest, verified clear, the zone editor's background), scope-checked and
hash-verified like evidence, audited like evidence, never cached. Keys and sessions alike may read them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response

from service.actions.errors import ActionError
from service.actions.hazards import READERS, read_verified
from service.auth.audit import audit
from service.auth.keys import Principal
from service.deps import RuntimeDep, SessionDep, require
from service.store import models as m
from service.store.evidence import media_type_of
from service.store.scope import can_see_compound

router = APIRouter(prefix="/web", include_in_schema=False)


@router.get("/frames/{frame_id}")
def frame_image(
    frame_id: str, session: SessionDep, runtime: RuntimeDep, who: Principal = Depends(require(*READERS))
) -> Response:
    frame = session.get(m.FrameRecord, frame_id)
    camera = session.get(m.Camera, frame.camera_id) if frame else None
    if frame is None or camera is None or not can_see_compound(session, who, camera.compound_id):
        raise HTTPException(404, "frame not found")
    if frame.image_path is None:
        raise HTTPException(404, "this frame's image was not kept")
    audit(session, who, "evidence.view", "frame", frame.id, frame.camera_id)
    session.commit()  # the view is on record even if the file turns out missing or altered
    try:
        data = read_verified(runtime.evidence, frame.image_path, frame.sha256, "frame image")
    except ActionError as error:
        raise HTTPException(410 if error.reason == "gone" else 409, error.message) from None
    headers = {"X-Content-SHA256": frame.sha256, "Cache-Control": "private, no-store"}
    return Response(data, media_type=media_type_of(data), headers=headers)
