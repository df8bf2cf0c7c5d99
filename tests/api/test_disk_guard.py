"""Before the disk is full, new frames are refused with a 507 and health says so; nothing is half written."""

from __future__ import annotations

import shutil
from collections import namedtuple

from service.store import models as m
from tests.api.conftest import Harness
from tests.api.support import CAR, push
from tests.devices.hikvision_device import alert_xml, jpeg, multipart
from tests.support import png_bytes

Usage = namedtuple("Usage", "total used free")


def test_a_nearly_full_disk_refuses_frames_with_507_and_health_says_so(harness: Harness) -> None:
    runtime = harness.client.app.state.runtime
    assert runtime.disk is not None and harness.client.get("/healthz").json() == {"status": "ok"}
    runtime.disk.usage = lambda path: Usage(100 * 2**30, 100 * 2**30 - 2**20, 2**20)  # 1 MiB left
    body, _ = png_bytes(1)
    pushed = harness.client.post(
        "/api/v1/cameras/lanting-gate/frames",
        content=body,
        headers=harness.headers("gateway") | {"Content-Type": "image/png"},
    )
    assert pushed.status_code == 507 and pushed.json()["detail"]["reason"] == "disk_full"
    assert pushed.headers["retry-after"] == "300"
    health = harness.client.get("/healthz").json()
    assert health["status"] == "disk_low" and health["disk"]["free_bytes"] == 2**20
    note, content_type = multipart(alert_xml(), [jpeg(1)])
    device = harness.client.post(
        "/api/v1/push/hikvision", content=note, headers=harness.headers("gateway") | {"Content-Type": content_type}
    )
    assert device.status_code in (404, 507)  # the demo site's cameras name no device: refused before the disk
    runtime.disk.usage = shutil.disk_usage
    with runtime.db.session() as session:
        assert session.query(m.FrameRecord).count() == 0


def test_a_hazard_opens_when_retention_removed_its_first_frame_meanwhile(harness: Harness) -> None:
    """Found by the soak: a short frame retention deleted a track's first frame before its dwell was over."""
    first = push(harness, 1, 0, CAR)
    with harness.client.app.state.runtime.db.session() as session:
        session.query(m.DetectionRecord).filter_by(frame_id=first["frame_id"]).delete()
        session.query(m.FrameRecord).filter_by(id=first["frame_id"]).delete()
    push(harness, 2, 150, CAR)
    opened = push(harness, 3, 300, CAR)["hazards"]
    assert [x["change"] for x in opened] == ["opened"]
    detail = harness.client.get(f"/api/v1/hazards/{opened[0]['hazard_id']}", headers=harness.headers("admin")).json()
    assert detail["first_frame_id"] is None and detail["first_seen_at"].startswith("2026-05-01T08:00:00")
