"""Who must hear about a hazard, who answers for it, and by when: the division of duties applied to a site.

A camera hazard first meets the site's `routing:` rules (zone type x category -> agency kinds), if the site
file has any; every hazard without a matching rule is routed by its kind's duty (rectifies, supervises,
informs). Compound-bound kinds (property company, police station, township) resolve to that compound's own
agency; a compound without a property company is its township's. County-wide kinds resolve to every agency
of that kind in the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.config.duties import COMPOUND_BOUND, AgencyKind
from service.config.site import Compound, Site


@dataclass(frozen=True)
class Recipient:
    agency_id: str
    agency_kind: str
    reason: str


@dataclass(frozen=True)
class Assignment:
    """A hazard's recipients, the unit that answers for it, and its deadlines."""

    recipients: list[Recipient]
    responsible_agency_id: str | None
    acknowledge_due_at: datetime
    rectify_due_at: datetime


def agencies_of(site: Site, compound: Compound | None, kind: str) -> list[tuple[str, str]]:
    """(agency id, kind) of one agency kind for a compound: its own for bound kinds, else all of the kind."""
    agency_kind = AgencyKind(kind)
    if agency_kind in COMPOUND_BOUND:
        if compound is None:
            return []
        own = compound.agency_of(agency_kind)
        if own is None and agency_kind == AgencyKind.property_company and compound.township is not None:
            return [(compound.township, AgencyKind.township.value)]  # no property company: the township's
        return [(own, agency_kind.value)] if own else []
    return [(a.id, agency_kind.value) for a in site.agencies if a.kind == agency_kind]


def assign(
    site: Site,
    compound_id: str,
    kind: str,
    at: datetime,
    zone_type: str | None = None,
    category: str | None = None,
) -> Assignment:
    """Recipients, the answering unit and deadlines of a hazard of `kind` recorded at `at`."""
    compound = site.compound(compound_id)
    duty = site.duty(kind)
    rectifiers = [a for k in duty.rectifies for a in agencies_of(site, compound, k)]
    supervisors = [a for k in duty.supervises for a in agencies_of(site, compound, k)]
    found = _routing_rule(site, compound, zone_type, category) if zone_type and category else None
    if found is None:
        found = [Recipient(a, k, "duty: rectifies") for a, k in rectifiers]
        found += [Recipient(a, k, "duty: supervises") for a, k in supervisors]
        found += [Recipient(a, k, "duty: informed") for k in duty.informs for a, k in agencies_of(site, compound, k)]
    answering = (rectifiers or supervisors or [(None, "")])[0][0]
    acknowledge, rectify = timedelta(hours=duty.acknowledge_hours), timedelta(hours=duty.rectify_hours)
    explicit = _site_deadline(site, zone_type, category) if zone_type and category else None
    if explicit is not None:  # the site's own escalation deadline for this zone and object wins for cameras
        acknowledge, rectify = explicit
    return Assignment(
        recipients=list({r.agency_id: r for r in found}.values()) if compound is not None else [],
        responsible_agency_id=answering if compound is not None else None,
        acknowledge_due_at=at + acknowledge,
        rectify_due_at=at + rectify,
    )


def _site_deadline(site: Site, zone_type: str, category: str) -> tuple[timedelta, timedelta] | None:
    """(acknowledge, rectify) from the site file's own escalation deadlines, if one matches."""
    for rule in site.escalation.deadlines:
        if rule.zone_type in ("*", zone_type) and rule.category in ("*", category):
            return rule.acknowledge, rule.rectify
    return None


def _routing_rule(site: Site, compound: Compound | None, zone_type: str, category: str) -> list[Recipient] | None:
    """The first of the site's own routing rules that matches a camera hazard, resolved; None if none does."""
    for rule in site.routing:
        if rule.zone_type not in ("*", zone_type) or rule.category not in ("*", category):
            continue
        reason = f"routing {rule.zone_type}/{rule.category}"
        return [Recipient(a, k, reason) for kind in rule.agency_kinds for a, k in agencies_of(site, compound, kind)]
    return None
