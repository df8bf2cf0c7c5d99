"""A compound without a property company is its township's: the township answers for its hazards, sees them
(and only its own compounds'), and acknowledges and rectifies them at the same desk (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from service.auth.keys import create_key
from service.config.settings import DEMO_SITE
from tests.api.conftest import Harness
from tests.intake.support import inspect, photo_png


@pytest.fixture
def township_site(make_harness, tmp_path: Path) -> Harness:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["agencies"].append({"id": "ts-riverside", "name": "河滨街道 Riverside Street", "kind": "township"})
    data["compounds"] += [
        {"id": "old-town", "name": "老街 Old Town", "police_station": "ps-chengguan", "township": "ts-chengguan"},
        {"id": "riverside", "name": "河滨 Riverside", "police_station": "ps-chengguan", "township": "ts-riverside"},
    ]
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def keys(session) -> dict[str, str]:
        return {
            "admin": create_key(session, "admin", "admin"),
            "chengguan": create_key(session, "ts-chengguan", "township", "ts-chengguan"),
            "riverside": create_key(session, "ts-riverside", "township", "ts-riverside"),
            "lanting": create_key(session, "pm-lanting", "property", "pm-lanting"),
        }

    return make_harness(keys=keys, site_file=site_file)


def test_the_township_answers_for_a_compound_without_a_company_and_works_it(township_site: Harness) -> None:
    h = township_site
    made = inspect(h, "admin", photos=[photo_png(1)], kind="stairwell_storage", compound="old-town")
    assert made.status_code == 201, made.text
    hazard = made.json()
    assert (hazard["source"], hazard["responsible_agency_id"]) == ("inspection", "ts-chengguan")
    assert {(r["agency_id"], r["reason"]) for r in hazard["recipients"]} == {
        ("ts-chengguan", "duty: rectifies"),
        ("ps-chengguan", "duty: supervises"),
    }
    url = f"/api/v1/hazards/{hazard['id']}"
    assert h.client.get(url, headers=h.headers("riverside")).status_code == 404  # another township
    assert h.client.get(url, headers=h.headers("lanting")).status_code == 404  # a company of another compound
    listed = h.client.get("/api/v1/hazards", headers=h.headers("chengguan")).json()["items"]
    assert [i["id"] for i in listed] == [hazard["id"]]
    assert h.client.post(f"{url}/acknowledge", headers=h.headers("chengguan")).json()["status"] == "acknowledged"
    done = h.client.post(f"{url}/rectify", headers=h.headers("chengguan"), json={"note": "stairs cleared"})
    assert done.json()["status"] == "rectified"
    refused = h.client.post(f"{url}/dismiss", headers=h.headers("chengguan"), json={"reason": "other"})
    assert refused.status_code == 403  # dismissing is the police's call
