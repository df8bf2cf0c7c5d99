"""API keys for machines (gateways, integrations) and the principal a request acts as.

A key looks like `cw_<prefix>_<secret>`. The prefix finds the row; only the SHA-256 of the whole key is
stored (a 32-byte random secret needs no slow hash), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store import models as m

ROLES = ("gateway", "property", "township", "police", "fire", "bureau", "county", "admin")
AGENCY_KINDS_FOR_ROLE: dict[str, tuple[str, ...]] = {
    "property": ("property_company",),
    "township": ("township",),
    "police": ("police_station",),
    "fire": ("fire_brigade",),
    # County-wide units that act on what is routed to them (traffic police, the bureaus of the campaign plan).
    "bureau": ("traffic_police", "enforcement_bureau", "housing_bureau", "emergency_bureau"),
}
ROLE_FOR_AGENCY_KIND = {kind: role for role, kinds in AGENCY_KINDS_FOR_ROLE.items() for kind in kinds}


def agency_problem(session: Session, role: str, agency_id: str | None) -> str | None:
    """Why `agency_id` cannot hold `role` (None when it can): a role that acts for an agency needs one of its kind."""
    if role not in AGENCY_KINDS_FOR_ROLE:
        return None
    agency = session.get(m.Agency, agency_id) if agency_id else None
    if agency is None:
        return f"role {role!r} needs --agency with a known agency id"
    kinds = AGENCY_KINDS_FOR_ROLE[role]
    if agency.kind not in kinds:
        return f"agency {agency_id!r} is a {agency.kind}, role {role!r} needs a {' or '.join(kinds)}"
    return None


class KeyCreationError(ValueError):
    """A key that cannot be created as asked (bad role, unknown agency...)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: role, the agency they act for, the cameras a gateway may push for."""

    name: str
    role: str
    agency_id: str | None = None
    camera_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, name: str, role: str, agency_id: str | None = None, camera_ids: list[str] | None = None
) -> str:
    """Store a new key and return it in plain text (shown once, never stored)."""
    if role not in ROLES:
        raise KeyCreationError(f"unknown role {role!r}; use one of {ROLES}")
    problem = agency_problem(session, role, agency_id)
    if problem:
        raise KeyCreationError(problem)
    cameras = list(camera_ids or [])
    if role == "gateway":
        if not cameras:
            raise KeyCreationError("a gateway key needs at least one --camera it may push frames for")
        unknown = [c for c in cameras if session.get(m.Camera, c) is None]
        if unknown:
            raise KeyCreationError(f"unknown cameras: {unknown}")
    prefix = secrets.token_hex(4)
    key = f"cw_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(
        m.ApiKey(
            prefix=prefix, secret_sha256=_digest(key), name=name, role=role, agency_id=agency_id, camera_ids=cameras
        )
    )
    session.flush()
    return key


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal for a presented key, or None if it is malformed, unknown, revoked or wrong."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "cw":
        return None
    row = session.scalars(select(m.ApiKey).where(m.ApiKey.prefix == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_sha256, _digest(key)):
        return None
    return Principal(name=row.name, role=row.role, agency_id=row.agency_id, camera_ids=tuple(row.camera_ids or ()))
