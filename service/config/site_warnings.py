"""What a valid site file probably did not mean: warnings, never errors (`site check` prints them and exits 0,
serve logs them at start-up).

Why not errors: each is a site that runs, just not as its author likely hoped (a camera whose frames can
never open a hazard, a routing rule that never matches). A deliberate one must not stop the service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from shapely import Polygon, unary_union

from service.config.duties import COMPOUND_BOUND
from service.config.site import Site
from service.config.site_problems import Problem

log = logging.getLogger("clearway.site")


def _cameras(site: Site) -> Iterator[Problem]:
    for index, camera in enumerate(site.cameras):
        if not camera.zones:
            yield Problem(
                f"cameras[{index}].zones",
                "no zones: its frames can never open a camera hazard (draw some in the web zone editor, or here)",
                f"camera {camera.id}",
            )
        masks = unary_union([Polygon(m) for m in camera.masks]) if camera.masks else None
        for number, zone in enumerate(camera.zones):
            where, label = f"cameras[{index}].zones[{number}]", f"camera {camera.id}, zone {zone.id}"
            if zone.categories == ():
                yield Problem(f"{where}.categories", "is empty: nothing seen in this zone ever counts", label)
            if masks is not None and Polygon(zone.polygon).difference(masks).area < 1e-6:
                yield Problem(f"{where}.polygon", "lies under the camera's masks: nothing in it is ever seen", label)


def _arming(site: Site) -> Iterator[Problem]:
    """A schedule disarmed around the clock: the camera's, or a zone's own (its hazards never open)."""
    message = "disarmed around the clock: hazards never open here (narrow or remove a disarmed window)"
    for index, camera in enumerate(site.cameras):
        if camera.arming is not None and camera.arming.always_disarmed():
            yield Problem(f"cameras[{index}].arming", message, f"camera {camera.id}")
        for number, zone in enumerate(camera.zones):
            if zone.arming is not None and zone.arming.always_disarmed():
                where, label = f"cameras[{index}].zones[{number}].arming", f"camera {camera.id}, zone {zone.id}"
                yield Problem(where, message, label)


def _routing(site: Site) -> Iterator[Problem]:
    kinds = {a.kind for a in site.agencies}
    for index, rule in enumerate(site.routing):
        earlier = next(
            (
                i
                for i, before in enumerate(site.routing[:index])
                if before.zone_type in ("*", rule.zone_type) and before.category in ("*", rule.category)
            ),
            None,
        )
        if earlier is not None:
            yield Problem(f"routing[{index}]", f"never matches: routing[{earlier}] matches all it would, first")
        for number, kind in enumerate(rule.agency_kinds):
            if kind not in kinds:
                message = f"no agency is a {kind}: no one of that kind receives"
                yield Problem(f"routing[{index}].agency_kinds[{number}]", message)
    default = "" if "ladder" in site.escalation.model_fields_set else " (the default ladder)"
    for step, ladder in enumerate(site.escalation.ladder):
        for kind in (k for k in ladder if k not in kinds):
            yield Problem(f"escalation.ladder[{step}]", f"no agency is a {kind}: this step reaches none{default}")


def _agencies(site: Site) -> Iterator[Problem]:
    """A property company, police station or township answers for the compounds that name it, and only those."""
    named = {ref for c in site.compounds for ref in (c.property_company, c.police_station, c.township) if ref}
    for index, agency in enumerate(site.agencies):
        if agency.kind in COMPOUND_BOUND and agency.id not in named:
            message = f"no compound names this {agency.kind}: it answers for none and receives no hazards"
            yield Problem(f"agencies[{index}]", message, f"agency {agency.id}")


def _silent(site: Site) -> Iterator[Problem]:
    """Agencies with no delivery channel: they are listed as recipients but are never told (one warning)."""
    silent = [a.id for a in site.agencies if not a.channels]
    if silent:
        message = f"no delivery channel for {', '.join(silent)}: hazards list them but they receive no messages"
        yield Problem("agencies", message)


def _campaign(site: Site) -> Iterator[Problem]:
    campaign = site.campaign
    if campaign is None or campaign.recipients.county is not None:
        return
    if not any(a.kind == "county_office" for a in site.agencies):
        message = "no county_office agency and no recipients.county: the county report goes to no one"
        yield Problem("campaign.recipients", message)


def site_warnings(site: Site) -> list[Problem]:
    """Everything worth a warning in a site that is valid."""
    return [*_agencies(site), *_silent(site), *_cameras(site), *_arming(site), *_routing(site), *_campaign(site)]


def log_site_warnings(site: Site, origin: str = "site file") -> None:
    """At start-up: each warning once in the log (the zones of the web editor already laid over the file)."""
    for warning in site_warnings(site):
        log.warning("%s: %s", origin, warning)
