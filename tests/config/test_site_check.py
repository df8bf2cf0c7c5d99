"""`clearway site check` as a person runs it: every problem of a file at once with its path, repeated YAML keys
refused with their lines, self-crossing polygons refused, warnings that still exit 0, the demo clean."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pytest
import yaml

from service.cli import main
from service.config.settings import DEMO_SITE, get_settings
from service.config.site import SiteConfigError, load_site, parse_site
from service.config.site_warnings import log_site_warnings, site_warnings
from service.store.site_overrides import site_with

DEMO = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
BOW_TIE = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]  # corners clicked in the wrong order

MANY_PROBLEMS = """\
agencies:
  - {id: pm-a, name: A, kind: property_company}
  - {id: ps-a, name: P, kind: police_station}
  - {id: pm-a, name: Again, kind: property_company}
compounds:
  - {id: a, name: A, property_company: pm-a, police_station: pm-a}
cameras:
  - id: cam-gate
    compound: nowhere
    colour: red
    zones:
      - {id: lane, type: fire_lane, polygon: [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]}
      - {id: lane, type: car_park, polygon: [[0.1, 0.1], [0.2, 0.2]]}
  - {id: cam-2, compound: a, source: rtsp, zones: [{id: z, type: stairwell, polygon: [[0, 0], [1, 0], [1, 1]]}]}
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture, *flags: str) -> tuple[int, str, str]:
    site = tmp_path / "site.yaml"
    site.write_text(text, encoding="utf-8")
    code = main(["site", "check", *flags, str(site)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_problem_of_a_file_is_reported_in_one_run_with_its_path(tmp_path: Path, capsys) -> None:
    code, out, err = check(tmp_path, MANY_PROBLEMS, capsys)
    assert code == 2 and out == ""
    expected = [
        "agencies[2].id (agency pm-a): agency id 'pm-a' repeats (first at agencies[0])",
        "compounds[0].police_station (compound a): 'pm-a' is a property_company, not a police_station",
        "cameras[0].compound (camera cam-gate): 'nowhere' is not a known compound (known: a)",
        "cameras[0].colour (camera cam-gate): Extra inputs are not permitted",
        "cameras[0].zones[0].polygon (camera cam-gate, zone lane): polygon crosses itself between edges 0 and 2",
        "cameras[0].zones[1].id (camera cam-gate, zone lane): zone id 'lane' repeats (first at zones[0])",
        "cameras[0].zones[1].type (camera cam-gate, zone lane): Input should be 'fire_lane'",
        "cameras[0].zones[1].polygon (camera cam-gate, zone lane): polygon needs at least 3 points, got 2",
        "cameras[1] (camera cam-2): source 'rtsp' needs an 'rtsp' section",
    ]
    lines = err.splitlines()
    assert lines[0] == f"error: {tmp_path / 'site.yaml'} is invalid ({len(expected)} problems):"
    for line, wanted in zip(lines[1:], expected, strict=True):  # in file order, each once
        assert line.strip().startswith(wanted), (line, wanted)


def test_the_error_carries_each_problem_and_references_are_checked_even_when_fields_fail() -> None:
    data = copy.deepcopy(DEMO)
    data["cameras"][0]["compound"] = "nowhere"  # a reference problem...
    data["cameras"][1]["zones"][0]["dwell_seconds"] = -5  # ...and a field problem elsewhere, in one run
    data["campaign"]["recipients"]["county"] = ["nobody"]
    with pytest.raises(SiteConfigError) as info:
        parse_site(data, "site.yaml")
    found = {(p.path, p.label) for p in info.value.problems}
    assert found == {
        ("cameras[0].compound", "camera lanting-gate"),
        ("cameras[1].zones[0].dwell_seconds", "camera lanting-b3-stair, zone stair-b3"),
        ("campaign.recipients.county[0]", ""),
    }
    assert "(site)" not in str(info.value)


def test_a_key_written_twice_is_refused_with_its_lines_and_path(tmp_path: Path, capsys) -> None:
    text = DEMO_SITE.read_text(encoding="utf-8").replace(
        "    compound: lanting\n    name: North gate, fire lane\n",
        "    compound: lanting\n    name: North gate, fire lane\n    compound: huayuan\n",
        1,
    )
    line = text.splitlines().index("    compound: huayuan") + 1
    code, _, err = check(tmp_path, text + "name: second name\n", capsys)
    assert code == 2
    assert f"cameras[0].compound (camera lanting-gate): line {line}: key 'compound' written twice" in err
    assert f"(first on line {line - 2})" in err
    last = len(text.splitlines()) + 1
    assert f"name: line {last}: key 'name' written twice in one mapping (first on line 3)" in err
    merged = "defaults: &d {kind: police_station}\n" + text.replace("    compound: huayuan\n", "")
    merged = merged.replace("{id: ps-chengguan, name:", "{<<: *d, id: ps-chengguan, name:")
    code, _, err = check(tmp_path, merged, capsys)
    assert code == 2 and "defaults: Extra inputs are not permitted" in err  # no site field, but no repeated key
    assert "written twice" not in err


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    text = DEMO_SITE.read_text(encoding="utf-8").replace(
        "      - {id: stair-b3, type: stairwell,", "      - {<<: {type: fire_lane}, id: stair-b3, type: stairwell,"
    )
    (tmp_path / "site.yaml").write_text(text, encoding="utf-8")
    assert load_site(tmp_path / "site.yaml").camera("lanting-b3-stair").zones[0].type == "stairwell"


def test_a_self_crossing_polygon_is_refused_in_the_file_and_in_the_zone_editor() -> None:
    data = copy.deepcopy(DEMO)
    data["cameras"][0]["zones"][1]["polygon"] = BOW_TIE
    data["cameras"][0]["masks"].append([[0, 0], [0.5, 0.5], [0.5, 0], [0, 0.5]])
    with pytest.raises(SiteConfigError) as info:
        parse_site(data, "site.yaml")
    message = str(info.value)
    assert "cameras[0].zones[1].polygon (camera lanting-gate, zone kerb-road): polygon crosses itself" in message
    assert "edges 0 and 2 near (0.5, 0.5)" in message
    assert "cameras[0].masks[1] (camera lanting-gate): mask crosses itself between edges 0 and 2" in message
    zone = {"id": "bay", "type": "fire_lane", "polygon": BOW_TIE}
    with pytest.raises(SiteConfigError, match=r"cameras\[0\]\.zones\[0\]\.polygon .*crosses itself"):
        site_with(load_site(DEMO_SITE), "lanting-gate", [zone], [])
    concave = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.5, 0.4], [0.1, 0.9]]  # an arrow head is fine
    assert site_with(load_site(DEMO_SITE), "lanting-gate", [{**zone, "polygon": concave}], []).camera("lanting-gate")


def test_a_camera_without_zones_warns_and_exits_0(tmp_path: Path, capsys, caplog) -> None:
    data = copy.deepcopy(DEMO)
    data["cameras"][3]["zones"] = []
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    code, out, err = check(tmp_path, text, capsys)
    assert code == 0 and out.startswith("ok (2 warnings): 10 agencies, 2 compounds, 5 cameras, 6 zones")
    err = "".join(line for line in err.splitlines(True) if not line.startswith("warning: agencies:"))  # the demo's
    assert err == (
        "warning: cameras[3].zones (camera huayuan-corridor): no zones: its frames can never open a camera hazard"
        " (draw some in the web zone editor, or here)\n"
    )
    assert check(tmp_path, text, capsys, "--strict")[0] == 1
    with caplog.at_level(logging.WARNING, logger="clearway.site"):
        log_site_warnings(load_site(tmp_path / "site.yaml"), "site.yaml")
    logged = [r.getMessage() for r in caplog.records if not r.getMessage().startswith("site.yaml: agencies:")]
    assert logged == [f"site.yaml: {err.removeprefix('warning: ').strip()}"]


def test_other_warnings_a_valid_site_gets() -> None:
    data = copy.deepcopy(DEMO)
    data["agencies"].append({"id": "pm-spare", "name": "Spare", "kind": "property_company"})
    data["cameras"][0]["zones"][0]["categories"] = []
    data["cameras"][0]["masks"].append([[0, 0.2], [1, 0.2], [1, 0.6], [0, 0.6]])  # covers the kerb-road zone
    data["routing"] = [{"agency_kinds": ["police_station"]}, {"zone_type": "fire_lane", "agency_kinds": ["township"]}]
    warnings = [str(w) for w in site_warnings(parse_site(data)) if w.path != "agencies"]  # silent: the demo test
    assert warnings == [
        "agencies[10] (agency pm-spare): no compound names this property_company: it answers for none and receives "
        "no hazards",
        "cameras[0].zones[0].categories (camera lanting-gate, zone fire-lane-north): is empty: nothing seen in this "
        "zone ever counts",
        "cameras[0].zones[1].polygon (camera lanting-gate, zone kerb-road): lies under the camera's masks: nothing in "
        "it is ever seen",
        "routing[1]: never matches: routing[0] matches all it would, first",
    ]


def test_the_demo_site_checks_clean_but_for_its_silent_agencies(capsys) -> None:
    """The demo configures no delivery channel (nothing to reach offline): the one warning says who is not told."""
    assert main(["site", "check", str(DEMO_SITE)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("ok (1 warning): 10 agencies, 2 compounds, 5 cameras, 7 zones")
    warnings = out.err.strip().splitlines()
    assert len(warnings) == 1
    assert "agencies: no delivery channel for pm-lanting, pm-huayuan, ps-chengguan" in warnings[0]
    assert [w.path for w in site_warnings(load_site(DEMO_SITE))] == ["agencies"]


def test_files_that_are_not_a_site(tmp_path: Path, capsys) -> None:
    assert check(tmp_path, "", capsys)[2] == (
        f"error: {tmp_path / 'site.yaml'} is invalid (1 problem):\n"
        "  (site): the site file is empty: it needs agencies, compounds and cameras\n"
    )
    assert "the site file must be a mapping" in check(tmp_path, "- a\n- b\n", capsys)[2]
    assert "is not valid YAML" in check(tmp_path, "cameras: [unclosed", capsys)[2]
    assert check(tmp_path, "a: 1\n---\nb: 2\n", capsys)[0] == 2  # two documents: not one site
