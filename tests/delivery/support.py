"""A delivery test bed without the vision pipeline: a migrated database, the demo site with channels,
hazards opened through the product's own hazard writer, and the delivery service driven by `run_once`."""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from PIL import Image
from sqlalchemy import select

from service.config.duties import camera_kind
from service.config.settings import DEMO_SITE
from service.config.site import Site, parse_site
from service.delivery.dispatcher import DispatchStats
from service.delivery.outbox import Outbox
from service.delivery.service import DeliveryService
from service.delivery.settings import DeliverySettings
from service.hazards.routing import assign
from service.store import models as m
from service.store.db import Database, utcnow
from service.store.delivery_models import Delivery
from service.store.evidence import EvidenceStore
from service.store.hazard_writer import Grade, HazardWriter, NewHazard
from service.store.migrate import upgrade
from service.store.site_sync import sync_site
from tests.delivery.receivers import Received

SECRET = "s3cret-for-tests-0123456789"
PUBLIC_URL = "https://clearway.example.org"


def site_data(channels: dict[str, list[dict]], escalation: dict | None = None) -> dict:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    for agency in data["agencies"]:
        agency["channels"] = channels.get(agency["id"], [])
    if escalation is not None:
        data["escalation"] = escalation
    return data


def site_with(channels: dict[str, list[dict]], escalation: dict | None = None) -> Site:
    return parse_site(site_data(channels, escalation))


def write_site(path: Path, channels: dict[str, list[dict]], escalation: dict | None = None) -> Path:
    path.write_text(yaml.safe_dump(site_data(channels, escalation), allow_unicode=True), encoding="utf-8")
    return path


def webhook(url: str, **extra: object) -> dict:
    return {"type": "webhook", "url": url, "secret": SECRET, "timeout_s": 5} | extra


def verify_signature(request: Received, secret: str = SECRET) -> bool:
    """The recipe of docs/delivery.md, written out independently of the service's own code."""
    timestamp = request.headers.get("x-clearway-timestamp", "")
    signature = request.headers.get("x-clearway-signature", "")
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
    return fresh and hmac.compare_digest(signature, f"v1={mac}")


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


class DeliveryEnv:
    def __init__(self, database_url: str, root: Path, site: Site, **settings: object) -> None:
        self.db = Database(database_url)
        upgrade(self.db.engine)
        self.site = site
        with self.db.session() as session:
            sync_site(session, site)
        self.evidence = EvidenceStore(root / "evidence")
        options = {"background": False, "backoff_base_s": 1.0, "backoff_max_s": 30.0, "concurrency": 2} | settings
        self.settings = DeliverySettings(public_url=PUBLIC_URL, **options)
        self.outbox = Outbox(lambda: self.site, self.settings)
        self.writer = HazardWriter(self.evidence, sink=self.outbox)  # as the runtime wires them
        self.service = DeliveryService(self.db, lambda: self.site, self.settings, self.writer, self.outbox)
        self._count = 0

    def open_hazard(
        self,
        camera: str = "lanting-gate",
        zone: str = "fire-lane-north",
        category: str = "vehicle",
        at: datetime | None = None,
        clear_width_m: float | None = None,
    ) -> int:
        """Through the hazard writer, as a camera hazard opens: row, grade, evidence, recipients, "opened"."""
        at = at or utcnow()
        self._count += 1
        cam = self.site.camera(camera)
        zone_type = cam.zone(zone).type.value
        kind = camera_kind(zone_type, category)
        new = NewHazard(
            engine_key=f"{camera}:{zone}:{self._count}:{at.timestamp()}",
            kind=kind,
            camera_id=camera,
            compound_id=cam.compound,
            zone_key=zone,
            zone_type=zone_type,
            category=category,
            class_name="car",
            confidence=0.91,
            box=[0.2, 0.6, 0.5, 0.9],
            first_seen_at=at - timedelta(minutes=5),
            opened_at=at,
        )
        grade = None
        if clear_width_m is not None:
            grade = Grade(clear_width_m, "major" if clear_width_m < 4.0 else "minor", 4.0)
        pictures = {"annotated": jpeg((200, 30, 30)), "thumbnail": jpeg((30, 200, 30))}
        assignment = assign(self.site, cam.compound, kind, at, zone_type, category)
        with self.db.session() as session:
            return self.writer.open(session, new, assignment, "car in zone", pictures, grade).id

    def act(self, hazard_id: int, to_status: str, actor: str = "property:pm-lanting", note: str = "") -> None:
        with self.db.session() as session:
            self.writer.transition(session, session.get(m.HazardEvent, hazard_id), to_status, actor, note)

    def hazard(self, hazard_id: int) -> m.HazardEvent:
        with self.db.session() as session:
            hazard = session.get(m.HazardEvent, hazard_id)
            _ = hazard.history, hazard.recipients, hazard.evidence
            return hazard

    def dispatch(self, now: datetime | None = None) -> DispatchStats:
        return self.service.dispatcher.run_once(now)

    def deliveries(self, **filters: object) -> list[Delivery]:
        with self.db.session() as session:
            query = select(Delivery).order_by(Delivery.id)
            for column, value in filters.items():
                query = query.where(getattr(Delivery, column) == value)
            return list(session.scalars(query))

    def close(self) -> None:
        self.service.close()
        self.db.dispose()
