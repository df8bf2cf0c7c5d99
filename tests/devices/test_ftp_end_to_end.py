"""FTP upload end to end into a hazard, through the real app (SQLite and PostgreSQL): a camera uploads three
event pictures of a parked car, named with their capture times as Hikvision names them."""

from __future__ import annotations

import ftplib
from collections.abc import Callable
from pathlib import Path

import yaml

from service.sources.ftp_server import FtpIntake, FtpOptions
from tests.api.conftest import Harness
from tests.sources.test_ftp import GATE, site_data, upload
from tests.support import detections, png_bytes

CAR_96X64 = ("car", "vehicle", (30, 36, 60, 60))  # ground point (45, 60) of a 96x64 picture: the fire lane


def test_three_uploads_of_a_parked_car_open_a_hazard(make_harness: Callable[..., Harness], tmp_path: Path) -> None:
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        yaml.safe_dump(site_data(**{"lanting-gate": {"ftp": {"username": GATE[0], "password": GATE[1]}}}))
    )
    h = make_harness(site_file=site_file)
    h.detector.detect = lambda image: detections(CAR_96X64)
    runtime = h.client.app.state.runtime
    options = FtpOptions(port=0, host="127.0.0.1", spool_dir=tmp_path / "spool", auth_failure_delay_s=0)
    ftp = FtpIntake(options, runtime.sites.current, runtime.devices, runtime.metrics, runtime.unknown_devices).start()
    try:
        client = ftplib.FTP(timeout=10)
        client.connect(*ftp.address)
        client.login(*GATE)
        for n, clock in enumerate(("153000000", "153230000", "153500000")):  # 15:30:00, 15:32:30, 15:35:00 local
            picture, _ = png_bytes(20 + n, size=(96, 64))
            name = f"192.168.1.64_01_20261201{clock}_FIELD_DETECTION.jpg"
            assert upload(client, name, picture, folders=("192.168.1.64",)).startswith("226")
        client.quit()
    finally:
        ftp.close()
    runtime.devices.join()
    [hazard] = h.client.get("/api/v1/hazards", headers=h.headers("admin")).json()["items"]
    assert (hazard["camera_id"], hazard["kind"]) == ("lanting-gate", "vehicle_in_fire_lane")
    assert hazard["opened_at"].startswith("2026-12-01T07:35:00")  # the third name's time, 15:35 in Asia/Shanghai
