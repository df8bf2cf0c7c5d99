"""The built-in FTP server, driven as a camera or NVR drives it (ftplib against the real server on 127.0.0.1),
and the device file names it reads capture times from."""

from __future__ import annotations

import contextlib
import ftplib
import io
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.config.settings import DEMO_SITE, Settings
from service.config.site import Site, parse_site
from service.metrics import Metrics
from service.sources.device_intake import DevicePicture
from service.sources.ftp_names import UploadName, parse_upload_name
from service.sources.ftp_server import FtpIntake, FtpOptions, parse_port_range
from service.sources.unknown_devices import UnknownDevices
from service.store import models as m
from tests.support import ScriptedDetector, free_port, png_bytes, wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")
GATE = ("gate-cam", "gate-secret-1")
STAIR = ("stair-cam", "stair-secret-2")
JPEG = b"\xff\xd8\xff\xe0" + bytes(200)  # only the magic bytes are checked here; the fake intake decodes nothing
HIK_NAME = "192.168.1.64_01_20261201153012345_FIELD_DETECTION.jpg"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- names -------------------------------------------------------------------------------------------------

AT = utc(2026, 12, 1, 7, 30, 12)  # 2026-12-01 15:30:12 in Asia/Shanghai (UTC+8), as the devices wrote it
AT_MS = AT.replace(microsecond=345000)
NAMES = [
    # Hikvision: <ip>_<channel>_<YYYYMMDDHHMMSSmmm>_<EVENT>, custom prefixes and folders before it
    (HIK_NAME, AT_MS, "FIELD_DETECTION", 1, "hikvision"),
    ("192.168.1.64_01_20261201153012345_TIMING.jpg", AT_MS, "TIMING", 1, "hikvision"),
    ("10.0.0.5_02_20261201153012345_LINE_CROSSING_DETECTION.jpg", AT_MS, "LINE_CROSSING_DETECTION", 2, "hikvision"),
    (
        "DS-2CD/camera01/192.168.1.64_01_20261201153012345_MOTION_DETECTION.jpg",
        AT_MS,
        "MOTION_DETECTION",
        1,
        "hikvision",
    ),
    ("gate_north_192.168.1.64_01_20261201153012345_TIMING.jpg", AT_MS, "TIMING", 1, "hikvision"),
    ("192.168.1.64_01_20261201153012_REGION_ENTRANCE.jpg", AT, "REGION_ENTRANCE", 1, "hikvision"),  # 14 digits
    ("192.168.1.64_01_20261201153012345_TIMING_2.jpg", AT_MS, "TIMING", 1, "hikvision"),
    ("lane_03_20261201153012345.jpg", AT_MS, None, 3, "hikvision"),
    ("10.0.0.5_01_20261201000001000_TIMING.jpg", utc(2026, 11, 30, 16, 0, 1), "TIMING", 1, "hikvision"),
    # Dahua and its OEMs: date, channel and clock in folders
    ("6J02D05PAG57E44/2026-12-01/001/jpg/15/30/12[M][0@0][0].jpg", AT, "M", 1, "dahua"),
    ("AMC002A3_K2G7HH/2026-12-01/002/jpg/15/30/12[R][0@0][0].jpg", AT, "R", 2, "dahua"),
    ("2026-12-01/001/jpg/15/30.12[M][0@0][0].jpg", AT, "M", 1, "dahua"),
    ("192.168.1.108/2026-12-01/001/jpg/15/15.30.12[A][0@0][0].jpg", AT, "A", 1, "dahua"),
    ("2026-12-01/pic_004/15.30.12[R][0@0][0].jpg", AT, "R", 4, "dahua"),
    ("/mnt/sd/2026-12-01/001/jpg/15/30/12[M][0@0][0][].jpg", AT, "M", 1, "dahua"),
    # a time and nothing else
    ("gate_20261201153012.jpg", AT, None, None, None),
    ("snap-2026-12-01_15-30-12.png", AT, None, None, None),
    ("2026/12/01/cam_20261201153012345.jpg", AT_MS, None, None, None),
]

UNPARSED = [
    "snapshot.jpg",
    "",
    "192.168.1.64_01_20261341153012345_TIMING.jpg",  # month 13
    "192.168.1.64_01_19991231235959000_TIMING.jpg",  # a device clock never set
    "2026-12-01/001/jpg/15/12[M][0@0][0].jpg",  # the minute folder missing
    "../../etc/passwd",
    "2026-02-30_10-00-00.jpg",  # no 30 February
]


@pytest.mark.parametrize(("name", "captured_at", "event", "channel", "style"), NAMES)
def test_device_file_names_give_time_event_and_channel(
    name: str, captured_at: datetime, event: str | None, channel: int | None, style: str | None
) -> None:
    parsed = parse_upload_name(name, SHANGHAI)
    assert parsed == UploadName(captured_at, event, channel, style)
    assert parsed.captured_at is not None and parsed.captured_at.tzinfo is UTC


@pytest.mark.parametrize("name", UNPARSED)
def test_names_without_a_usable_time_give_none(name: str) -> None:
    assert parse_upload_name(name, SHANGHAI).captured_at is None


def test_name_times_are_the_sites_local_time_including_summer_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    summer = parse_upload_name("192.168.1.64_01_20260701120000000_TIMING.jpg", berlin)
    winter = parse_upload_name("192.168.1.64_01_20261201120000000_TIMING.jpg", berlin)
    assert summer.captured_at == utc(2026, 7, 1, 10) and winter.captured_at == utc(2026, 12, 1, 11)


def test_passive_port_ranges() -> None:
    assert parse_port_range("30000-30009") == range(30000, 30010)
    assert parse_port_range("30000") == range(30000, 30001)
    for bad in ("30009-30000", "0-10", "70000", "x"):
        with pytest.raises(ValueError):
            parse_port_range(bad)


# --- the server --------------------------------------------------------------------------------------------


def site_data(**ftp_cameras: dict) -> dict:
    """The demo site, with an FTP login on the cameras named (camera id -> extra camera fields)."""
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    for camera in data["cameras"]:
        camera.update(ftp_cameras.get(camera["id"], {}))
    return data


def ftp_site(**extra: dict) -> Site:
    cameras = {
        "lanting-gate": {"ftp": {"username": GATE[0], "password": GATE[1]}},
        "lanting-b3-stair": {"ftp": {"username": STAIR[0], "password": STAIR[1]}},
    }
    return parse_site(site_data(**(cameras | extra)))


class FakeIntake:
    def __init__(self, accept: bool = True) -> None:
        self.pictures: list[DevicePicture] = []
        self.accept = accept

    def submit(self, picture: DevicePicture) -> bool:
        if self.accept:
            self.pictures.append(picture)
        return self.accept


class Server:
    """An FtpIntake on 127.0.0.1 (any free port) with a recording intake; `site` is what its `site()` answers."""

    def __init__(self, spool: Path, site: Site | None, accept: bool, **options: object) -> None:
        self.site = site or ftp_site()
        self.fake, self.metrics, self.unknown = FakeIntake(accept), Metrics(), UnknownDevices()
        settings = {"port": 0, "host": "127.0.0.1", "spool_dir": spool, "auth_failure_delay_s": 0} | options
        self.ftp = FtpIntake(FtpOptions(**settings), lambda: self.site, self.fake, self.metrics, self.unknown)
        self.ftp.start()

    def events(self, outcome: str) -> float:
        labels = {"source": "ftp", "outcome": outcome}
        return self.metrics.registry.get_sample_value("clearway_device_events_total", labels) or 0.0

    def client(self, login: tuple[str, str] | None = GATE) -> ftplib.FTP:
        client = ftplib.FTP(timeout=10)
        client.connect(*self.ftp.address)
        if login is not None:
            client.login(*login)
        return client

    def spool_files(self) -> list[Path]:
        return [Path(root) / f for root, _dirs, files in os.walk(self.ftp._spool) for f in files]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(site: Site | None = None, accept: bool = True, **options: object) -> Server:
        started.append(Server(tmp_path, site, accept, **options))
        return started[-1]

    yield start
    for server in started:
        server.ftp.close()


def upload(client: ftplib.FTP, name: str, data: bytes = JPEG, folders: tuple[str, ...] = ()) -> str:
    for folder in folders:  # as devices do: make each level (it may exist already), then change into it
        with contextlib.suppress(ftplib.error_perm):
            client.mkd(folder)
        client.cwd(folder)
    return client.storbinary(f"STOR {name}", io.BytesIO(data))


def test_an_upload_into_nested_folders_reaches_the_intake_with_the_name_time(servers) -> None:
    server = servers()
    with server.client() as client:
        answer = upload(client, HIK_NAME, folders=("192.168.1.64", "camera01"))
    assert answer.startswith("226")
    [picture] = server.fake.pictures
    assert (picture.camera_id, picture.source, picture.data) == ("lanting-gate", "ftp", JPEG)
    assert picture.captured_at == AT_MS
    assert picture.hint == {
        "vendor": "hikvision",
        "event": "FIELD_DETECTION",
        "file": f"192.168.1.64/camera01/{HIK_NAME}",
    }
    assert server.events("accepted") == 1
    assert server.spool_files() == []  # nothing is kept once handed over
    assert wait_until(lambda: not (server.ftp._spool / GATE[0]).exists())  # nor the folders, once it logs out


def test_a_dahua_path_and_a_png(servers) -> None:
    server = servers()
    png, _ = png_bytes(3)
    with server.client(STAIR) as client:
        upload(client, "12[M][0@0][0].jpg", png, folders=("6J02D05PAG57E44", "2026-12-01", "001", "jpg", "15", "30"))
    [picture] = server.fake.pictures
    assert picture.camera_id == "lanting-b3-stair" and picture.captured_at == AT
    assert picture.hint["vendor"] == "dahua" and picture.hint["event"] == "M"


def test_a_wrong_password_is_refused_and_counted(servers) -> None:
    server = servers()
    with server.client(None) as client, pytest.raises(ftplib.error_perm, match="530"):
        client.login(GATE[0], "not-the-password")
    assert server.events("bad_password") == 1 and server.unknown.listed() == []
    with server.client(None) as client, pytest.raises(ftplib.error_perm, match="530"):
        client.login(GATE[0], STAIR[1])  # another camera's password is no better
    assert server.events("bad_password") == 2


def test_an_unknown_login_is_refused_and_registered(servers) -> None:
    server = servers()
    with server.client(None) as client, pytest.raises(ftplib.error_perm, match="530"):
        client.login("new-camera", "whatever")
    [heard] = server.unknown.listed()
    assert (heard.source, heard.identity, heard.address) == ("ftp", "new-camera", "127.0.0.1")
    assert server.events("unknown_device") == 1


def test_site_changes_apply_without_a_restart(servers) -> None:
    server = servers()
    changed = {"lanting-gate": {"ftp": {"username": GATE[0], "password": "rotated-secret"}}}
    server.site = ftp_site(**changed)
    with server.client(None) as client, pytest.raises(ftplib.error_perm, match="530"):
        client.login(*GATE)
    with server.client((GATE[0], "rotated-secret")) as client:
        assert upload(client, HIK_NAME).startswith("226")


def test_upload_only_no_listing_download_delete_or_rename(servers) -> None:
    server = servers()
    with server.client(STAIR) as client:
        client.mkd("kept-folder")
    with server.client() as client:
        for attempt in (
            client.nlst,
            lambda: client.retrlines("LIST"),
            lambda: client.retrbinary("RETR x.jpg", lambda _: None),
            lambda: client.delete("x.jpg"),
            lambda: client.rename("a.jpg", "b.jpg"),
            lambda: client.rmd("kept-folder"),
            lambda: client.size(HIK_NAME),
            lambda: client.storbinary("APPE x.jpg", io.BytesIO(JPEG)),
        ):
            with pytest.raises(ftplib.error_perm, match="550"):
                attempt()
        with pytest.raises(ftplib.error_perm):  # another login's folder is not there for this one
            client.cwd(f"/../{STAIR[0]}/kept-folder")
        with pytest.raises(ftplib.error_perm, match="502"):
            client.sendcmd("REST 100")
    assert server.fake.pictures == []


def test_path_traversal_stays_in_the_jail(servers, tmp_path: Path) -> None:
    server = servers()
    outside = tmp_path / "outside"
    outside.mkdir()
    with server.client() as client:
        for target in ("../../outside/x.jpg", f"{outside}/x.jpg", "/../../../outside/x.jpg"):
            with pytest.raises(ftplib.error_perm, match="550"):  # read as <jail>/outside/x.jpg: no such folder
                client.storbinary(f"STOR {target}", io.BytesIO(JPEG))
        client.mkd("../../escape")  # made, but inside the login's own folder
        client.cwd("../../..")
        assert client.pwd() == "/"
        assert upload(client, "..\\..\\outside\\x.jpg").startswith("226")  # one odd name, in the jail
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape").exists()
    assert [p.hint["file"] for p in server.fake.pictures] == ["..\\..\\outside\\x.jpg"]


def test_an_oversized_upload_is_aborted_and_nothing_kept(servers) -> None:
    server = servers(max_file_bytes=1000)
    client = server.client()
    with pytest.raises((ftplib.error_perm, OSError)):
        client.storbinary(f"STOR {HIK_NAME}", io.BytesIO(JPEG + bytes(300_000)))
    client.close()
    assert wait_until(lambda: server.events("too_large") == 1, timeout_s=10)
    assert wait_until(lambda: server.spool_files() == [], timeout_s=10)
    assert server.fake.pictures == [] and server.events("accepted") == 0
    with server.client() as client:  # the server still serves
        assert upload(client, HIK_NAME).startswith("226")


def test_a_file_that_is_no_picture_is_refused(servers) -> None:
    server = servers()
    with server.client() as client, pytest.raises(ftplib.error_perm, match="550"):
        upload(client, "192.168.1.64_01_20261201153012345_TIMING.jpg", b"<html>not a picture</html>")
    assert server.fake.pictures == [] and server.events("not_image") == 1
    assert server.spool_files() == []


def test_an_unparseable_name_falls_back_to_the_upload_time_and_is_counted(servers) -> None:
    server = servers()
    before = datetime.now(UTC)
    with server.client() as client:
        upload(client, "snapshot.jpg")
    after = datetime.now(UTC)
    [picture] = server.fake.pictures
    assert before <= picture.captured_at <= after
    assert picture.hint == {"vendor": "other", "event": None, "file": "snapshot.jpg"}
    assert server.events("unparsed_name") == 1 and server.events("accepted") == 1


def test_a_name_far_in_the_future_is_not_believed(servers) -> None:
    server = servers()
    with server.client() as client:
        upload(client, "192.168.1.64_01_20891201153012345_TIMING.jpg")
    [picture] = server.fake.pictures
    assert picture.captured_at < utc(2089, 1, 1) and server.events("bad_time") == 1


def test_a_full_queue_answers_try_again(servers) -> None:
    server = servers(accept=False)
    with server.client() as client, pytest.raises(ftplib.error_temp, match="451"):
        upload(client, HIK_NAME)
    assert server.events("queue_full") == 1 and server.spool_files() == []


def test_an_nvr_login_routes_each_channel_to_its_camera(servers) -> None:
    nvr = {"vendor": "hikvision", "serial": "DS-7608NI0120260101", "channel": 1}
    site = ftp_site(
        **{
            "lanting-gate": {"ftp": {"username": "nvr", "password": "nvr-secret"}, "device": nvr},
            "lanting-b3-stair": {"device": nvr | {"channel": 2}},
        }
    )
    server = servers(site)
    with server.client(("nvr", "nvr-secret")) as client:
        upload(client, "10.0.0.9_01_20261201153012345_TIMING.jpg")
        upload(client, "10.0.0.9_02_20261201153012345_TIMING.jpg")
        with pytest.raises(ftplib.error_perm, match="550"):
            upload(client, "10.0.0.9_03_20261201153012345_TIMING.jpg")
    assert [p.camera_id for p in server.fake.pictures] == ["lanting-gate", "lanting-b3-stair"]
    [heard] = server.unknown.listed()
    assert (heard.identity, heard.channel) == ("nvr", 3) and server.events("unknown_channel") == 1


def test_passive_ports_and_the_masquerade_address(servers) -> None:
    port = free_port()
    server = servers(passive_ports=range(port, port + 1), masquerade_address="127.0.0.1")
    with server.client() as client:
        reply = client.sendcmd("PASV")
        numbers = [int(n) for n in reply[reply.index("(") + 1 : reply.index(")")].split(",")]
        assert numbers[:4] == [127, 0, 0, 1] and numbers[4] * 256 + numbers[5] == port
        client.sendcmd("ABOR")
    with server.client() as client:
        assert upload(client, HIK_NAME).startswith("226")
    assert len(server.fake.pictures) == 1


def test_closing_the_server_removes_its_folder(tmp_path: Path) -> None:
    options = FtpOptions(port=0, host="127.0.0.1", spool_dir=tmp_path)
    intake = FtpIntake(options, ftp_site, FakeIntake(), Metrics(), UnknownDevices()).start()
    address = intake.address
    assert len(list(tmp_path.iterdir())) == 1
    intake.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConnectionRefusedError):
        ftplib.FTP().connect(*address, timeout=2)


def test_options_from_settings() -> None:
    fields = {"ftp_host": "0.0.0.0", "ftp_masquerade_address": "203.0.113.7", "ftp_max_file_bytes": 5_000_000}
    fields |= {"data_dir": Path("data"), "max_clock_skew_s": 60.0}
    assert FtpOptions.from_settings(SimpleNamespace(ftp_port=None, ftp_passive_ports=None, **fields)) is None
    options = FtpOptions.from_settings(SimpleNamespace(ftp_port=2121, ftp_passive_ports="30000-30009", **fields))
    assert options == FtpOptions(
        port=2121,
        host="0.0.0.0",
        passive_ports=range(30000, 30010),
        masquerade_address="203.0.113.7",
        max_file_bytes=5_000_000,
        spool_dir=Path("data"),
        max_clock_skew_s=60.0,
    )


# --- end to end: the real app --------------------------------------------------------------------------------


def test_an_uploaded_picture_becomes_a_frame(database_url: str, tmp_path: Path) -> None:
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        yaml.safe_dump(site_data(**{"lanting-gate": {"ftp": {"username": GATE[0], "password": GATE[1]}}}))
    )
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, site_file=site_file)
    detector = ScriptedDetector()
    with TestClient(create_app(settings, detector_factory=lambda: detector)) as client:
        runtime = client.app.state.runtime
        options = FtpOptions(port=0, host="127.0.0.1", spool_dir=settings.data_dir, auth_failure_delay_s=0)
        ftp = FtpIntake(options, runtime.sites.current, runtime.devices, runtime.metrics, runtime.unknown_devices)
        ftp.start()
        try:
            picture, _ = png_bytes(7, size=(96, 64))
            client_ftp = ftplib.FTP(timeout=10)
            client_ftp.connect(*ftp.address)
            client_ftp.login(*GATE)
            assert upload(client_ftp, HIK_NAME, picture, folders=("192.168.1.64",)).startswith("226")
            client_ftp.quit()
        finally:
            ftp.close()
        runtime.devices.join()
        with runtime.db.session() as session:
            [frame] = session.query(m.FrameRecord).filter_by(camera_id="lanting-gate", source="ftp").all()
            assert frame.device_event["event"] == "FIELD_DETECTION"
            assert frame.captured_at.replace(tzinfo=UTC) == AT_MS
