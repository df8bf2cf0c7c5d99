"""The division of duties: every kind has one, every camera finding has a kind, and docs/intake.md tells the
same table the code applies (a reader relies on it to know who must act, and by when)."""

from __future__ import annotations

import re

from service.config.duties import CAMERA_KINDS, DEFAULT_DUTIES, AgencyKind, HazardKind, ZoneType, camera_kind
from service.config.site import DEFAULT_CATEGORIES
from tests.conftest import REPO

UNITS = {"min": 1 / 60, "h": 1, "days": 24}


def _kinds_named(cell: str) -> set[str]:
    """'property company, enforcement bureau' -> {'property_company', 'enforcement_bureau'} ('—' is none)."""
    words = re.sub(r"\(.*?\)", "", cell).replace("—", "")
    return {w.strip().replace(" ", "_") for w in words.split(",") if w.strip()}


def _hours(cell: str) -> float:
    number, unit = cell.split()
    return float(number) * UNITS[unit]


def test_every_kind_has_a_duty_with_someone_who_answers() -> None:
    assert set(DEFAULT_DUTIES) == set(HazardKind)
    for kind, duty in DEFAULT_DUTIES.items():
        assert duty.rectifies or duty.supervises, kind
        assert duty.acknowledge_hours <= duty.rectify_hours, kind


def test_every_camera_finding_has_a_kind() -> None:
    for zone_type in ZoneType:
        for category in DEFAULT_CATEGORIES[zone_type]:
            assert (zone_type, category) in CAMERA_KINDS
            assert camera_kind(zone_type.value, category) != HazardKind.camera_offline


def test_the_documented_table_is_the_one_applied() -> None:
    text = (REPO / "docs" / "intake.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"^\| `[a-z_]+` \|", line)]
    documented = {}
    for row in rows:
        kind, _examples, rectifies, supervises, acknowledge, rectify = (c.strip() for c in row.strip("|").split("|"))
        documented[kind.strip("`")] = (_kinds_named(rectifies), _kinds_named(supervises), acknowledge, rectify)
    assert set(documented) == {k.value for k in HazardKind}
    known = {k.value for k in AgencyKind}
    for kind, (rectifies, supervises, acknowledge, rectify) in documented.items():
        duty = DEFAULT_DUTIES[HazardKind(kind)]
        assert rectifies | supervises <= known, kind
        assert rectifies == {k.value for k in duty.rectifies}, kind
        assert supervises == {k.value for k in duty.supervises}, kind
        assert (_hours(acknowledge), _hours(rectify)) == (duty.acknowledge_hours, duty.rectify_hours), kind
