"""Campaign reports through the API and the pages: the periods, the reports made (scoped to the caller), their
files as sent (hash checked), live figures, and the county dashboard with its server-drawn charts."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from tests.api.conftest import Harness
from tests.reports.support import TWO_WEEKS, seed
from tests.web.support import add_people, fresh_client, login


def get(harness: Harness, who: str, path: str, **params: str):
    return harness.client.get(f"/api/v1/campaign{path}", headers=harness.headers(who), params=params)


def made(harness: Harness) -> dict[str, int]:
    """Seed two weeks and let the schedule make their reports as on the Friday after; unit -> W46 report id."""
    runtime = harness.client.app.state.runtime
    site = runtime.sites.current()
    seed(runtime, site, TWO_WEEKS)
    week = next(p for p in get(harness, "county", "").json()["periods"] if p["label"] == "2026-W46")
    runtime.reports.run_once(datetime.fromisoformat(week["ends_at"]) + timedelta(minutes=1))
    listed = harness.client.get("/api/v1/campaign/reports", headers=harness.headers("county")).json()
    return {r["unit_id"]: r["id"] for r in listed if r["period"] == "2026-W46"}


def test_the_campaign_lists_its_weeks_and_the_summary(harness: Harness) -> None:
    answer = harness.client.get("/api/v1/campaign", headers=harness.headers("lanting"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["timezone"] == "Asia/Shanghai" and body["starts"] == "2026-11-02"
    assert body["periods"][0]["label"] == "2026-W45" and body["periods"][-1]["label"] == "final"
    assert harness.client.get("/api/v1/campaign", headers=harness.headers("gateway")).status_code == 403
    assert harness.client.get("/api/v1/campaign").status_code == 401


def test_reports_are_scoped_and_their_files_are_the_ones_sent(harness: Harness) -> None:
    ids = made(harness)
    assert {"county", "pm-lanting", "pm-huayuan", "ps-chengguan", "ts-chengguan"} <= set(ids)
    own = harness.client.get("/api/v1/campaign/reports", headers=harness.headers("lanting")).json()
    assert {r["unit_id"] for r in own} == {"pm-lanting"} and len(own) == 2  # its own two weeks only
    other = harness.client.get(f"/api/v1/campaign/reports/{ids['pm-huayuan']}", headers=harness.headers("lanting"))
    assert other.status_code == 404  # another unit's report is not found, not forbidden
    detail = harness.client.get(f"/api/v1/campaign/reports/{ids['county']}", headers=harness.headers("police"))
    assert detail.status_code == 404  # a police station reads its own unit's report
    county = harness.client.get(f"/api/v1/campaign/reports/{ids['county']}", headers=harness.headers("county")).json()
    assert county["figures"]["found"] == 2 and county["figures"]["rate"] == 0.6
    pdf = harness.client.get(f"/api/v1/campaign/reports/{ids['county']}.pdf", headers=harness.headers("county"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == pdf.headers["x-content-sha256"] == county["pdf_sha256"]
    assert 'filename="clearway-2026-W46-county.pdf"' in pdf.headers["content-disposition"]
    xlsx = harness.client.get(f"/api/v1/campaign/reports/{ids['county']}.xlsx", headers=harness.headers("admin"))
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert (
        harness.client.get("/api/v1/campaign/reports/999999.pdf", headers=harness.headers("county")).status_code == 404
    )


def test_live_figures_validate_the_week_and_the_unit(harness: Harness) -> None:
    runtime = harness.client.app.state.runtime
    seed(runtime, runtime.sites.current(), TWO_WEEKS)
    live = harness.client.get(
        "/api/v1/campaign/figures", headers=harness.headers("county"), params={"week": "2026-W45"}
    )
    assert live.status_code == 200 and live.json()["found"] == 3 and live.json()["unit_id"] == "county"
    mine = harness.client.get(
        "/api/v1/campaign/figures", headers=harness.headers("lanting"), params={"week": "2026-W46"}
    )
    assert mine.json()["unit_id"] == "pm-lanting" and mine.json()["found_to_date"] == 3
    bad = get(harness, "county", "/figures", week="W45")
    assert bad.status_code == 422 and bad.json()["detail"]["reason"] == "bad_week"
    outside = get(harness, "lanting", "/figures", week="2026-W45", unit="county")
    assert outside.status_code == 404
    final = get(harness, "county", "/figures", week="final")
    assert final.status_code == 200 and final.json()["phases"][0]["label"].startswith("动员部署")


def test_the_pages_show_the_dashboard_and_each_report_with_its_files(harness: Harness) -> None:
    add_people(harness)
    ids = made(harness)
    browser = fresh_client(harness)
    login(browser, "county")
    dashboard = browser.get("/web/dashboard")
    assert dashboard.status_code == 200
    charts = re.findall(r'<img src="data:image/png;base64,', dashboard.text)
    assert len(charts) == 5  # rate over time, compounds, units, kinds, sources
    assert 'id="units-table"' in dashboard.text and 'id="camera-health"' in dashboard.text
    listing = browser.get("/web/reports")
    assert f'href="/web/reports/{ids["county"]}"' in listing.text
    page = browser.get(f"/web/reports/{ids['county']}")
    assert page.status_code == 200 and 'id="report-summary"' in page.text and "60%" in page.text
    download = browser.get(f"/web/reports/{ids['county']}.pdf")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    lanting = fresh_client(harness)
    login(lanting, "lanting")
    assert lanting.get(f"/web/reports/{ids['county']}").status_code == 404
    assert "units-table" not in lanting.get("/web/dashboard").text  # a unit sees its own compounds only
