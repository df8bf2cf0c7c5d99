"""RTSP cameras wired into the running service: sampled frames reach the pipeline, health reaches the API,
and a camera offline for too long becomes a `camera_offline` event routed to the property company."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from service.store import models as m
from tests.support import ScriptedDetector, free_port, wait_until


def site_with(tmp_path: Path, url: str) -> Path:
    site = {
        "agencies": [
            {"id": "pm", "name": "Property", "kind": "property_company"},
            {"id": "ps", "name": "Police", "kind": "police_station"},
        ],
        "compounds": [{"id": "estate", "name": "Estate", "property_company": "pm", "police_station": "ps"}],
        "cameras": [
            {
                "id": "cam",
                "compound": "estate",
                "source": "rtsp",
                "rtsp": {"url": url, "sample_interval_s": 1, "open_timeout_s": 2, "read_timeout_s": 2},
                "zones": [{"id": "lane", "type": "fire_lane", "polygon": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}],
            },
        ],
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def client_for(tmp_path: Path, url: str, **settings: object) -> TestClient:
    options = Settings(data_dir=tmp_path / "data", site_file=site_with(tmp_path, url), **settings)
    return TestClient(create_app(options, detector_factory=ScriptedDetector))


def test_sampled_rtsp_frames_enter_the_pipeline_and_health_is_served(rtsp_server, tmp_path: Path) -> None:
    with client_for(tmp_path, rtsp_server.url()) as client:
        runtime = client.app.state.runtime
        with runtime.db.session() as session:
            key = create_key(session, "admin", "admin")

        def rtsp_frames() -> int:
            with runtime.db.session() as session:
                return session.query(m.FrameRecord).filter_by(camera_id="cam", source="rtsp").count()

        assert wait_until(lambda: rtsp_frames() >= 2, timeout_s=30)
        camera = client.get("/api/v1/cameras", headers={"Authorization": f"Bearer {key}"}).json()["items"][0]
        assert camera["health"]["status"] == "online" and camera["health"]["frames_sampled"] >= 2
        assert camera["last_frame_at"] is not None
        assert "rtsp" not in str(camera["health"].get("last_error") or "")


def test_camera_offline_too_long_raises_an_event_for_the_property_company(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: connections are refused
    with client_for(tmp_path, f"rtsp://127.0.0.1:{port}/cam", camera_offline_after_s=1) as client:
        runtime = client.app.state.runtime

        def offline_hazard() -> m.HazardEvent | None:
            with runtime.db.session() as session:
                hazard = session.query(m.HazardEvent).filter_by(kind="camera_offline").first()
                if hazard is not None:
                    hazard.recipients  # noqa: B018  (load before the session closes)
                return hazard

        assert wait_until(lambda: offline_hazard() is not None, timeout_s=30)
        hazard = offline_hazard()
        assert hazard.camera_id == "cam" and hazard.status in ("open", "notified")
        assert [r.agency_id for r in hazard.recipients] == ["pm"]
