"""Cooldown and digest end to end: the real offline default model on ultralytics' bus photo, frames in over HTTP,
messages out to a real webhook receiver.

The fire lane drawn under the bus cools down a few seconds, by the server's clock as docs/delivery.md says (the
capture times are scripted, the cooldown is not theirs); the police channel never cools down. The bus parks: one
hazard, "opened" to both agencies. It leaves: cleared. It parks again within the cooldown: a second hazard, in
the ledger, whose "opened" to the property company is held while the police hear at once. When the window has
ended the digest job makes exactly one digest, listing the second hazard, and the property company hears of it
from that alone; after the window the lane alerts as usual. The dispatcher and the digest job are driven with
`run_once` (the digest job's `now` injected); only the last step waits, bounded, for the server's clock to pass
the few-second window.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from service.store.db import utcnow
from service.store.delivery_models import Delivery
from tests.delivery.conftest import receivers  # noqa: F401  (the receivers fixture)
from tests.delivery.receivers import DedupReceiver, HttpReceiver
from tests.delivery.support import PUBLIC_URL, verify_signature, webhook
from tests.e2e.test_real_model import ASSETS, SITE, jpeg, push
from tests.support import wait_until

COOLDOWN = timedelta(seconds=6)  # waited out for real at the end; two frames (~0.1 s each here) fit in it easily
BUS, STREET = ASSETS / "bus.jpg", ASSETS / "zidane.jpg"  # the bus over the lane; a scene without it


@pytest.fixture
def receiver(receivers) -> HttpReceiver:  # noqa: F811
    """A real HTTP server on 127.0.0.1 that checks each signature and processes each idempotency key once."""
    return receivers(DedupReceiver(verify_signature))


@pytest.fixture
def client(default_model_path: Path, tmp_path: Path, receiver: HttpReceiver) -> Iterator[TestClient]:
    """The real-model site of test_real_model.py, its lane cooling down, one webhook per agency."""
    site = copy.deepcopy(SITE)
    site["cameras"][0]["zones"][0]["cooldown"] = f"{int(COOLDOWN.total_seconds())}s"
    channels = {"pm": [webhook(f"{receiver.url}/pm")], "ps": [webhook(f"{receiver.url}/ps", cooldown=0)]}
    for agency in site["agencies"]:
        agency["channels"] = channels[agency["id"]]
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(site))
    settings = Settings(
        data_dir=tmp_path / "data",
        site_file=site_file,
        models_dir=default_model_path.parent,
        delivery={"public_url": PUBLIC_URL, "background": False},  # the test drives the dispatcher and digest job
    )
    with TestClient(create_app(settings)) as test_client:
        with test_client.app.state.runtime.db.session() as session:
            key = create_key(session, "gw", "gateway", camera_ids=["bus-cam"])
            admin = create_key(session, "admin", "admin")
        test_client.headers.update({"Authorization": f"Bearer {key}"})
        test_client.admin = {"Authorization": f"Bearer {admin}"}
        yield test_client


class Camera:
    """bus-cam: re-encoded photos at scripted capture times, each frame's bytes distinct."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.quality = 96

    def frames(self, photo: Path, *seconds: float) -> list[tuple[str, int]]:
        """The hazard changes (change, hazard id) the last of these frames made."""
        result: dict = {}
        for second in seconds:
            self.quality -= 1
            result = push(self.client, "bus-cam", jpeg(photo, self.quality), second)
        return [(h["change"], h["hazard_id"]) for h in result["hazards"]]


def drain(client: TestClient) -> None:
    """Send everything due now, as the dispatcher thread would."""
    while client.app.state.runtime.delivery.dispatcher.run_once().claimed:
        pass


def sent(receiver: HttpReceiver, agency: str) -> list[tuple[str, object]]:
    """(event, hazard id, or the digest's hazard ids) of each message the agency's receiver processed, in order."""
    out: list[tuple[str, object]] = []
    for request in receiver.requests:
        body = request.json()
        if request.path == f"/{agency}" and body["idempotency_key"] in receiver.respond.processed:
            about = [h["id"] for h in body["hazards"]] if body["event"] == "digest" else body["hazard"]["id"]
            out.append((body["event"], about))
    return out


def deliveries(client: TestClient, **filters: object) -> dict:
    response = client.get("/api/v1/deliveries", params=filters, headers=client.admin)
    assert response.status_code == 200, response.text
    return response.json()


def hazard(client: TestClient, hazard_id: int) -> dict:
    return client.get(f"/api/v1/hazards/{hazard_id}", headers=client.admin).json()


def metrics(client: TestClient) -> str:
    return client.get("/metrics", headers=client.admin).text


def held_rows(client: TestClient) -> list[Delivery]:
    with client.app.state.runtime.db.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.status == "held").order_by(Delivery.id)))


@pytest.mark.model
def test_a_bus_parking_again_within_the_cooldown_is_summed_up_in_one_digest(
    client: TestClient, receiver: HttpReceiver
) -> None:
    camera = Camera(client)
    digests = client.app.state.runtime.delivery.digests

    # The bus parks for the dwell time: one hazard, announced to both agencies.
    [(change, first)] = camera.frames(BUS, 0, 30, 60)
    assert change == "opened"
    drain(client)
    assert sent(receiver, "pm") == sent(receiver, "ps") == [("opened", first)]
    assert hazard(client, first)["status"] == "notified"

    # It leaves (the street without the bus, for the clear interval): cleared; the window starts.
    assert camera.frames(STREET, 90, 120, 150) == [("cleared", first)]
    drain(client)
    assert sent(receiver, "pm") == sent(receiver, "ps") == [("opened", first), ("cleared", first)]
    closed = hazard(client, first)
    assert closed["status"] == "cleared"
    window_end = datetime.fromisoformat(closed["closed_at"]) + COOLDOWN

    # It parks again within the cooldown: a second hazard, recorded like any other, but the property company's
    # "opened" is held; the police channel (cooldown 0) hears at once.
    [(change, second)] = camera.frames(BUS, 180, 240)
    assert change == "opened" and second != first
    assert utcnow() < window_end, "two frames took longer than the cooldown: make COOLDOWN longer"
    drain(client)
    assert sent(receiver, "pm") == [("opened", first), ("cleared", first)]
    assert sent(receiver, "ps")[-1] == ("opened", second)
    repeat = hazard(client, second)
    assert repeat["status"] == "open" and repeat["class_name"] == "bus"  # the property company has not heard
    listing = client.get("/api/v1/hazards", headers=client.admin).json()
    assert sorted(h["id"] for h in listing["items"]) == sorted([first, second])
    ledger = client.get("/api/v1/ledger.csv", headers=client.admin)
    assert ledger.status_code == 200
    rows = csv.DictReader(io.StringIO(ledger.content.decode("utf-8-sig")))  # with a byte-order mark
    assert sorted(int(row["number"]) for row in rows) == sorted([first, second])
    held = deliveries(client, hazard_id=second, agency="pm")
    assert held["counts"] == {"held": 1} and [d["event"] for d in held["items"]] == ["opened"]
    assert deliveries(client, hazard_id=second, agency="ps")["counts"] == {"delivered": 1}
    [row] = held_rows(client)
    assert (row.hazard_id, row.window_key, row.digest_id) == (second, f"{first}:pm:webhook", None)
    assert row.held_until == window_end  # fixed at the first hazard's closing + the cooldown
    assert 'clearway_deliveries_held_total{reason="cooldown"} 1.0' in metrics(client)

    # The digest job: nothing before the window ends, then exactly one digest, made once.
    assert digests.run_once(window_end - timedelta(seconds=1)) == []
    made = digests.run_once(window_end + timedelta(seconds=1))
    assert len(made) == 1
    assert digests.run_once(window_end + timedelta(hours=1)) == []
    drain(client)
    assert sent(receiver, "pm") == [("opened", first), ("cleared", first), ("digest", [second])]
    assert all(event != "digest" for event, _ in sent(receiver, "ps"))
    [body] = [r.json() for r in receiver.requests if r.json()["event"] == "digest"]
    assert body["schema"] == "clearway.digest/1" and body["idempotency_key"].startswith(f"cw-d{made[0]}-")
    assert body["recipient"]["agency_id"] == "pm" and body["recipient"]["channel"] == "webhook"
    assert body["camera"]["id"] == "bus-cam" and body["zone"] == {"id": "lane", "type": "fire_lane", "name": ""}
    assert body["window"]["after_hazard_id"] == first
    assert body["window"]["cooldown_s"] == COOLDOWN.total_seconds()
    [listed] = body["hazards"]
    assert (listed["id"], listed["status"], listed["class_name"], listed["events_held"]) == (
        second,
        "open",
        "bus",
        ["opened"],
    )
    assert listed["page"] == f"{PUBLIC_URL}/hazards/{second}"
    digest_rows = [d for d in deliveries(client, agency="pm")["items"] if d["event"] == "digest"]
    assert [(d["hazard_id"], d["status"]) for d in digest_rows] == [(None, "delivered")]
    assert [r.digest_id for r in held_rows(client)] == made  # the held row stays held, pointing at its digest
    assert hazard(client, second)["status"] == "notified"  # the digest told the property company
    assert "clearway_digests_sent_total 1.0" in metrics(client)

    # After the window (the server's clock passes it for real: a few seconds), the lane alerts as usual.
    assert wait_until(lambda: utcnow() > window_end, timeout_s=COOLDOWN.total_seconds() + 5)
    assert camera.frames(STREET, 270, 300, 330) == [("cleared", second)]
    drain(client)  # after the digest, the held hazard's later events go as usual
    assert sent(receiver, "pm")[-1] == sent(receiver, "ps")[-1] == ("cleared", second)
    [(change, third)] = camera.frames(BUS, 360, 420)
    assert change == "opened" and third not in (first, second)
    drain(client)
    expected = [("opened", first), ("cleared", first), ("digest", [second]), ("cleared", second), ("opened", third)]
    assert sent(receiver, "pm") == expected
    assert sent(receiver, "ps") == [
        ("opened", first),
        ("cleared", first),
        ("opened", second),
        ("cleared", second),
        ("opened", third),
    ]
    assert deliveries(client, hazard_id=third)["counts"] == {"delivered": 2}
    assert deliveries(client)["counts"] == {"delivered": 10, "held": 1}
    assert hazard(client, third)["status"] == "notified"
    assert receiver.respond.bad_signatures == 0 and receiver.respond.duplicates == 0
    assert len(receiver.requests) == 10
    text = metrics(client)
    assert 'clearway_deliveries_held_total{reason="cooldown"} 1.0' in text
    assert "clearway_digests_sent_total 1.0" in text
