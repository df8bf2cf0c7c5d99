"""Site file validation: the demo loads, and each mistake is reported with its exact path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from service.config.settings import DEMO_SITE
from service.config.site import SiteConfigError, load_site, parse_site

DEMO = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))


def broken(edit) -> str:
    data = copy.deepcopy(DEMO)
    edit(data)
    with pytest.raises(SiteConfigError) as info:
        parse_site(data, "site.yaml")
    return str(info.value)


def test_demo_site_has_every_zone_type_and_two_compounds() -> None:
    site = load_site(DEMO_SITE)
    assert len(site.compounds) == 2
    assert {z.type.value for c in site.cameras for z in c.zones} == {
        "fire_lane",
        "stairwell",
        "evacuation_route",
        "safety_exit",
        "perimeter_road",
        "elevator",
    }
    lane = site.camera("lanting-gate").zones[0]
    assert lane.effective_dwell_seconds == 300 and "vehicle" in lane.effective_categories
    stair = site.camera("lanting-b3-stair").zones[0]
    assert stair.effective_dwell_seconds == 120 and "vehicle" not in stair.effective_categories


def test_errors_name_the_exact_path() -> None:
    def two_points(d):
        d["cameras"][2]["zones"][0]["polygon"] = [[0, 0], [1, 1]]

    message = "cameras[2].zones[0].polygon (camera huayuan-lane, zone fire-lane-central): polygon needs at least 3"
    assert message in broken(two_points)

    def outside(d):
        d["cameras"][0]["zones"][1]["polygon"][0] = [1.5, 0.2]

    assert "cameras[0].zones[1].polygon" in broken(outside) and "normalised" in broken(outside)

    def bad_type(d):
        d["cameras"][1]["zones"][0]["type"] = "car_park"

    assert "cameras[1].zones[0].type" in broken(bad_type)

    def unknown_field(d):
        d["cameras"][0]["colour"] = "red"

    assert "cameras[0].colour (camera lanting-gate): Extra inputs are not permitted" in broken(unknown_field)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["cameras"][0].update(compound="nowhere"), "'nowhere' is not a known compound (known: huayuan"),
        (lambda d: d["compounds"][0].update(police_station="pm-huayuan"), "is a property_company"),
        (lambda d: d["cameras"][0]["zones"][0].update(categories=["person"]), "never an obstruction"),
        (lambda d: d["cameras"][0].update(source="rtsp"), "needs an 'rtsp' section"),
        (lambda d: d["cameras"].append(copy.deepcopy(d["cameras"][0])), "'lanting-gate' repeats (first at cameras[0])"),
        (lambda d: d["cameras"][0]["zones"][0].update(dwell_seconds=-5), "greater than 0"),
        (lambda d: d["cameras"][0]["zones"][0].update(polygon=[[0, 0], [0.5, 0.5], [1, 1]]), "no area"),
    ],
)
def test_reference_and_value_errors(edit, message: str) -> None:
    assert message in broken(edit)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="not found"):
        load_site(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras: [unclosed")
    with pytest.raises(SiteConfigError, match="not valid YAML"):
        load_site(bad)
