"""After photos: proof that a hazard was rectified, uploaded by whoever may rectify it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.actions.errors import Forbidden, Invalid
from service.actions.hazards import available, load_visible
from service.auth.audit import audit
from service.auth.keys import Principal
from service.store.hazard_writer import HazardWriter
from service.vision.decoding import ImageRejectedError, decode_image


def save_after_photo(
    session: Session, writer: HazardWriter, who: Principal, hazard_id: int, data: bytes, max_bytes: int, max_pixels: int
) -> str:
    """Store the photo as the hazard's next `after-n` evidence; returns that kind. Invalid says why a photo
    was refused (`reason` photo_too_large or photo_invalid); Forbidden when this role may not add one."""
    if len(data) > max_bytes:
        raise Invalid(f"the photo is over the {max_bytes}-byte limit", reason="photo_too_large")
    try:
        decode_image(data, max_pixels)
    except (ImageRejectedError, ImportError):  # ImportError: Ultralytics' Image.open patch wanting pi-heif
        raise Invalid("the photo is not a readable JPEG or PNG", reason="photo_invalid") from None
    hazard = load_visible(session, who, hazard_id)
    if not available(hazard, who.role)["photo"]:
        raise Forbidden(f"role {who.role!r} may not add photos to this hazard")
    kind = writer.add_after_photo(session, hazard, data, who.actor)
    audit(session, who, "hazard.after_photo", "hazard", hazard.id, kind)
    return kind
