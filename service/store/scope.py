"""What a caller may see: the compounds in its scope, applied as a SQL filter everywhere.

Out-of-scope objects are answered as 'not found', so ids cannot be probed. Any object with a `role` and an
`agency_id` is a viewer (an API key's or a person's principal, service/auth/), so the store needs no auth code.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.store import models as m

SEE_ALL = ("admin", "county", "fire")  # the fire brigade and the county work county-wide
ROUTED_ONLY = ("bureau",)  # traffic police and the bureaus: only the hazards routed (or escalated) to them


class Viewer(Protocol):
    role: str
    agency_id: str | None


def compound_filter(principal: Viewer):
    """A WHERE clause on Compound limiting to the principal's compounds; None means everything."""
    if principal.role in SEE_ALL:
        return None
    if principal.role == "property":
        return m.Compound.property_company_id == principal.agency_id
    if principal.role == "township":  # the township of the compound (it manages those without a company)
        return m.Compound.township_id == principal.agency_id
    if principal.role == "police":
        return m.Compound.police_station_id == principal.agency_id
    return m.Compound.id.is_(None)  # gateways see no hazards


def _routed_to(principal: Viewer) -> Select:
    return select(m.HazardRecipient.hazard_id).where(m.HazardRecipient.agency_id == principal.agency_id)


def visible_compound_ids(session: Session, principal: Viewer) -> list[str] | None:
    if principal.role in ROUTED_ONLY:  # the compounds of the hazards it has been sent
        routed = select(m.HazardEvent.compound_id).where(m.HazardEvent.id.in_(_routed_to(principal))).distinct()
        return list(session.scalars(routed))
    clause = compound_filter(principal)
    if clause is None:
        return None
    return list(session.scalars(select(m.Compound.id).where(clause)))


def scope_hazards(query: Select, session: Session, principal: Viewer) -> Select:
    if principal.role in ROUTED_ONLY:
        return query.where(m.HazardEvent.id.in_(_routed_to(principal)))
    ids = visible_compound_ids(session, principal)
    return query if ids is None else query.where(m.HazardEvent.compound_id.in_(ids))


def can_see_compound(session: Session, principal: Viewer, compound_id: str) -> bool:
    ids = visible_compound_ids(session, principal)
    return ids is None or compound_id in ids
