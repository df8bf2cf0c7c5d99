"""The ledger (台账): every hazard of every source in one table, scoped to the caller, as a real spreadsheet
(dates as dates in the site's zone, frozen header, filters) and as CSV, from the API and the pages."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from openpyxl import load_workbook

from tests.api.conftest import Harness
from tests.api.support import T0, open_hazard
from tests.intake.support import inspect, photo_png
from tests.web.support import add_people, fresh_client, login

ZH = {"Accept-Language": "zh-CN"}


def rows_of_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())  # so spreadsheet programs read the Chinese as it is
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_api_ledger_holds_every_source_with_deadlines_measures_and_proof(harness: Harness) -> None:
    camera = open_hazard(harness)
    harness.client.post(f"/api/v1/hazards/{camera}/acknowledge", headers=harness.headers("lanting"))
    harness.client.post(
        f"/api/v1/hazards/{camera}/rectify", headers=harness.headers("lanting"), json={"note": "car towed"}
    )
    fixed = inspect(
        harness,
        "lanting",
        photos=[photo_png(2)],
        after=photo_png(3),
        kind="stairwell_storage",
        fixed_on_the_spot="true",
    )
    assert fixed.status_code == 201, fixed.text
    rows = rows_of_csv(harness.client.get("/api/v1/ledger.csv", headers=harness.headers("county")).content)
    assert [(r["number"], r["kind"], r["source"], r["status"]) for r in rows] == [
        (str(camera), "vehicle_in_fire_lane", "camera", "rectified"),
        (str(fixed.json()["id"]), "stairwell_storage", "self_inspection", "rectified"),
    ]
    first = rows[0]
    found = T0 + timedelta(minutes=5)  # the hazard opened at the third frame, 300 s after the first
    assert first["found_at"] == (found + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")  # Asia/Shanghai
    assert first["deadline"] == (found + timedelta(hours=8, days=1)).strftime("%Y-%m-%d %H:%M")
    assert first["responsible"].endswith("Lanting Property Services") and first["measures"] == "car towed"
    assert first["location"].startswith("North gate, fire lane") and first["grade"] == "minor"
    assert rows[1]["proof"] == "after_photo" and rows[1]["location"] == "Building 3, north gate"
    only_stairs = harness.client.get(
        "/api/v1/ledger.csv", headers=harness.headers("county"), params={"kind": "stairwell_storage"}
    )
    assert [r["number"] for r in rows_of_csv(only_stairs.content)] == [str(fixed.json()["id"])]
    assert rows_of_csv(harness.client.get("/api/v1/ledger.csv", headers=harness.headers("huayuan")).content) == []
    assert harness.client.get("/api/v1/ledger.csv", headers=harness.headers("gateway")).status_code == 403


def test_the_spreadsheet_has_typed_dates_a_frozen_header_and_filters(harness: Harness) -> None:
    hazard = open_hazard(harness)
    response = harness.client.get("/api/v1/ledger.xlsx", headers=harness.headers("police"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["number", "compound", "location", "kind", "source", "found_at"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:O{sheet.max_row}"
    values = dict(zip(header, (c.value for c in sheet[2]), strict=True))
    assert values["number"] == hazard and isinstance(values["found_at"], datetime)
    assert values["found_at"] == (T0 + timedelta(minutes=5, hours=8)).replace(tzinfo=None)
    assert sheet.cell(row=2, column=header.index("found_at") + 1).number_format == "yyyy-mm-dd hh:mm"


def test_the_page_exports_the_queue_as_filtered_in_the_readers_language(harness: Harness) -> None:
    add_people(harness)
    open_hazard(harness)
    browser = fresh_client(harness)
    login(browser, "lanting")
    queue = browser.get("/web/hazards?status=all", headers=ZH)
    assert 'href="/web/ledger.xlsx?status=all' in queue.text
    rows = rows_of_csv(browser.get("/web/ledger.csv?status=all", headers=ZH).content)
    assert list(rows[0])[:4] == ["编号", "小区", "位置", "隐患类型"]
    assert rows[0]["隐患类型"] == "机动车占用消防车道" and rows[0]["来源"] == "摄像机" and rows[0]["状态"] == "新发现"
    sheet = load_workbook(io.BytesIO(browser.get("/web/ledger.xlsx?status=all", headers=ZH).content)).active
    assert sheet.title == "隐患台账" and sheet.max_row == 2
    assert browser.get("/web/ledger.pdf").status_code == 422  # only the formats it makes
