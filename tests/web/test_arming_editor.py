"""Arming schedules in the zone editor: shown (site time, zh and en), saved through the zone save path with
exact-path errors, stored with the camera's zones, applied live and kept across a restart (SQLite, PostgreSQL)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from service.config.arming import DAYS
from service.config.settings import DEMO_SITE
from service.store.models import CameraOverride
from tests.api.conftest import Harness
from tests.web.support import add_people, fresh_client, login

MARKET = {"disarmed": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "06:00", "to": "10:00"}]}
MONDAY_7 = datetime(2026, 5, 3, 23, 0, tzinfo=UTC)  # Monday 07:00 in Shanghai
MONDAY_11 = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)


def zones_now(h: Harness) -> list[dict]:
    camera = h.client.app.state.runtime.sites.current().camera("lanting-gate")
    return [z.model_dump(mode="json", exclude_none=True) for z in camera.zones]


def gate(h: Harness):
    return h.client.app.state.runtime.sites.current().camera("lanting-gate")


def save(h: Harness, csrf: str, zones: list[dict], revision: int, client=None):
    body = {"revision": revision, "zones": zones, "masks": [[[0.0, 0.0], [0.25, 0.0], [0.25, 0.08], [0.0, 0.08]]]}
    return (client or h.client).post("/web/cameras/lanting-gate/zones", json=body, headers={"X-CSRF-Token": csrf})


def editor_data(page: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-editor="([^"]+)"', page).group(1)))


def test_a_schedule_saved_in_the_editor_is_stored_applied_and_kept(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    add_people(h)
    csrf = login(h.client, "lanting")
    zones = zones_now(h)
    assert gate(h).zone_armed("fire-lane-north", MONDAY_7) is True  # the demo site has no schedule
    bad = [{**zones[0], "arming": {"disarmed": [{"days": ["mon"], "from": "06:00", "to": "06:00"}]}}, zones[1]]
    refused = save(h, csrf, bad, 0)
    assert refused.status_code == 422
    assert any(
        e.startswith("cameras[0].zones[0].arming.disarmed[0] (camera lanting-gate, zone fire-lane-north)")
        and "from and to are both 06:00" in e
        for e in refused.json()["errors"]
    ), refused.json()
    zones[0]["arming"] = MARKET
    saved = save(h, csrf, zones, 0)
    assert saved.status_code == 200, saved.text
    assert gate(h).zone_armed("fire-lane-north", MONDAY_7) is False  # applied, no restart
    assert gate(h).zone_armed("fire-lane-north", MONDAY_11) is True
    assert gate(h).zone_armed("kerb-road", MONDAY_7) is True  # the other zone has none
    with h.client.app.state.runtime.db.session() as session:
        stored = session.get(CameraOverride, "lanting-gate").zones
    assert stored[0]["arming"] == {**MARKET, "holidays": "as_sunday"}  # the site file's spelling: from / to
    assert "arming" not in stored[1]
    page = h.client.get("/web/cameras/lanting-gate").text
    data = editor_data(page)["zones"][0]["arming"]
    assert data == {**MARKET, "holidays": "as_sunday"}
    h.client.__exit__(None, None, None)
    again = make_harness()  # same database: the saved schedule is laid over the site file at start
    assert gate(again).zone_armed("fire-lane-north", MONDAY_7) is False
    assert gate(again).zone("fire-lane-north").arming.disarmed[0].start == "06:00"


def test_back_to_the_camera_schedule_removes_the_zone_one(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    add_people(h)
    csrf = login(h.client, "admin")
    zones = zones_now(h)
    zones[1]["arming"] = {"disarmed": [{"from": "22:00", "to": "06:00"}], "holidays": "armed"}
    assert save(h, csrf, zones, 0).status_code == 200
    assert gate(h).zone_armed("kerb-road", datetime(2026, 5, 4, 20, 0, tzinfo=UTC)) is False  # 04:00 Tuesday
    del zones[1]["arming"]  # "the camera's schedule" in the editor sends no arming
    assert save(h, csrf, zones, 1).status_code == 200
    assert gate(h).zone("kerb-road").arming is None
    with h.client.app.state.runtime.db.session() as session:
        assert "arming" not in session.get(CameraOverride, "lanting-gate").zones[1]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("Arming schedule", "Times are site time: Asia/Shanghai (UTC+08:00).", "Its own schedule")),
        ("zh", ("布防时段", "时间为站点时间：Asia/Shanghai（UTC+08:00）。", "本区域单独设置")),
    ],
)
def test_the_editor_shows_the_schedule_in_site_time(site: Harness, lang: str, words: tuple[str, ...]) -> None:
    client = fresh_client(site)
    client.cookies.set("cw_lang", lang)
    login(client, "police")  # may look, not edit: the schedule is shown, its inputs disabled
    page = client.get("/web/cameras/lanting-gate").text
    for word in words:
        assert word in page
    assert "fieldset disabled" in page
    data = editor_data(page)
    arming = data["arming"]
    assert arming["timezone"] == "Asia/Shanghai" and arming["offset"] == "+08:00" and arming["camera"] is None
    assert arming["armed_now"] == {"fire-lane-north": True, "kerb-road": True}
    assert arming["now"].endswith("+08:00")


def test_a_camera_schedule_from_the_site_file_is_shown_for_its_zones(
    make_harness: Callable[..., Harness], tmp_path: Path
) -> None:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["cameras"][0]["arming"] = {"disarmed": [{"from": "00:00", "to": "24:00"}]}  # disarmed around the clock
    data["cameras"][0]["zones"][1]["arming"] = {}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    h = make_harness(site_file=path)
    add_people(h)
    login(h.client, "lanting")
    page = h.client.get("/web/cameras/lanting-gate").text
    assert '<option value="inherit">沿用摄像头的时段</option>' in page
    arming = editor_data(page)["arming"]
    whole_days = [{"days": list(DAYS), "from": "00:00", "to": "24:00"}]
    assert arming["camera"] == {"disarmed": whole_days, "holidays": "as_sunday"}
    assert arming["armed_now"] == {"fire-lane-north": False, "kerb-road": True}
