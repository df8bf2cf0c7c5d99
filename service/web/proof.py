"""Rectification proof: an 'after' photo uploaded by whoever fixed the hazard, kept as evidence (hashed,
never overwritten: the n-th photo is evidence kind `after-n`) and noted in the hazard's history.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from service.api.routes.hazards import load_visible
from service.auth.audit import audit
from service.auth.users import UserPrincipal
from service.runtime import Runtime
from service.store import models as m
from service.store.lifecycle import record
from service.vision.decoding import ImageRejectedError, decode_image


class ProofRejectedError(ValueError):
    """An upload refused; `reason` names the message the page shows."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def save_after_photo(
    svc: Runtime,
    who: UserPrincipal,
    hazard_id: int,
    data: bytes,
    available: Callable[[m.HazardEvent, str], dict[str, bool]],
) -> str:
    """Store the photo as the hazard's next `after-n` evidence; returns that kind."""
    if len(data) > svc.settings.max_upload_bytes:
        raise ProofRejectedError("photo_too_large")
    try:
        decode_image(data, svc.settings.max_pixels)
    except (ImageRejectedError, ImportError):  # ImportError: Ultralytics' Image.open patch wanting pi-heif
        raise ProofRejectedError("photo_invalid") from None
    png = data[:4] == b"\x89PNG"
    with svc.db.session() as session:
        hazard = load_visible(session, who, hazard_id)
        if not available(hazard, who.role)["photo"]:
            raise ProofRejectedError("forbidden")
        number = 1 + sum(1 for e in hazard.evidence if e.kind.startswith("after-"))
        kind = f"after-{number}"
        name = f"{kind}-{secrets.token_hex(4)}.{'png' if png else 'jpg'}"  # never overwrite a file
        stored = svc.evidence.save(f"hazards/{hazard.id}/{name}", data)
        session.add(
            m.Evidence(
                hazard_id=hazard.id,
                kind=kind,
                path=stored.relative_path,
                media_type="image/png" if png else "image/jpeg",
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
            )
        )
        record(session, hazard, "after_photo", who.actor, kind)
        audit(session, who, "hazard.after_photo", "hazard", hazard.id, kind)
    return kind
