"""Who must hear about a hazard: the routing table (zone type x category -> agency kinds) applied to a site.

Compound-bound kinds (property company, police station) resolve to that compound's own agencies; county-wide
kinds (traffic police, fire brigade, county office) resolve to every agency of that kind in the site.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.config.site import AgencyKind, Site

COMPOUND_BOUND = {AgencyKind.property_company: "property_company", AgencyKind.police_station: "police_station"}


@dataclass(frozen=True)
class Recipient:
    agency_id: str
    agency_kind: str
    reason: str


def recipients_for(site: Site, compound_id: str, zone_type: str, category: str) -> list[Recipient]:
    """The first routing rule that matches decides; rules are ordered most specific first in the site file."""
    compound = site.compound(compound_id)
    if compound is None:
        return []
    for rule in site.routing:
        if rule.zone_type not in ("*", zone_type) or rule.category not in ("*", category):
            continue
        reason = f"routing {rule.zone_type}/{rule.category}"
        found: list[Recipient] = []
        for kind in rule.agency_kinds:
            if kind in COMPOUND_BOUND:
                found.append(Recipient(getattr(compound, COMPOUND_BOUND[kind]), kind.value, reason))
            else:
                found += [Recipient(a.id, kind.value, reason) for a in site.agencies if a.kind == kind]
        return list({r.agency_id: r for r in found}.values())
    return []
