"""POST /api/v1/push/hikvision: the endpoint a Hikvision camera or NVR's alarm server ("HTTP listening") points at.

Answers at once (the device retries, and some firmware blocks, on a slow answer): the notification is read and
checked here; its picture is queued for the pipeline (service/sources/device_intake.py) and processed after.

Authentication, whichever the device's settings allow: the gateway key as the last part of the URL path
(`/api/v1/push/hikvision/<key>`, for devices whose alarm server has no authentication), HTTP Basic with the key
as the password, or the usual `Authorization: Bearer` / `X-API-Key`. A gateway key may push only for its
cameras. Every refusal is counted in `clearway_device_events_total{source="hikvision", outcome}`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from service.api.routes.frames import DISK_FULL, Rejection, read_capped
from service.auth.keys import Principal, authenticate
from service.camera_events import handle_offline_event
from service.deps import RuntimeDep
from service.runtime import Runtime
from service.sources.device_intake import DevicePicture
from service.sources.device_lookup import camera_for_device
from service.sources.health import OfflineEvent
from service.sources.hikvision import Alert, AlertRejectedError, parse_device_time, parse_notification
from service.store.disk import DiskFullError
from service.store.instants import bounded

router = APIRouter(prefix="/api/v1/push", tags=["devices"])
SOURCE = "hikvision"
XML_LIMIT = 256 * 1024  # a notification without pictures is a few kilobytes


class PushAnswer(BaseModel):
    camera_id: str
    event: str = Field(description="the device's event type, e.g. fielddetection")
    accepted: int = Field(description="pictures queued for processing (0 for a heartbeat or an event without one)")
    camera_blind: bool = Field(default=False, description="video loss, tampering or scene change: a camera hazard")


def _key(request: Request, token: str | None) -> str | None:
    if token:
        return token
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return request.headers.get("x-api-key")


def _principal(runtime: Runtime, request: Request, token: str | None) -> Principal:
    key = _key(request, token)
    found = None
    if key:
        with runtime.db.session() as session:
            found = authenticate(session, key)
    if found is None:
        runtime.metrics.auth_failures.labels(reason="missing" if not key else "invalid").inc()
        raise Rejection(401, "unauthenticated", "a gateway key is needed: in the URL path, as Basic password or Bearer")
    if found.role not in ("gateway", "admin"):
        raise Rejection(403, "forbidden", f"role {found.role!r} may not push device events")
    return found


def _capture_time(alert: Alert, runtime: Runtime, now: datetime) -> datetime:
    """The device's dateTime (its offset, or the site's zone without one); the receive time if it is unusable."""
    when = parse_device_time(alert.date_time, runtime.sites.current().zone)
    when = bounded(when, UTC) if when is not None else None
    skew = timedelta(seconds=runtime.settings.max_clock_skew_s)
    if when is None or when.year < 2000 or when > now + skew:
        runtime.metrics.device_events.labels(source=SOURCE, outcome="bad_time").inc()
        return now
    return when


async def receive(request: Request, runtime: Runtime, token: str | None) -> PushAnswer:
    try:
        who = _principal(runtime, request, token)
        body = await read_capped(request, runtime.settings.max_upload_bytes + XML_LIMIT)
        try:
            alert = parse_notification(body, request.headers.get("content-type", ""))
        except AlertRejectedError as exc:
            raise Rejection(415 if exc.reason == "unsupported_media_type" else 400, exc.reason, str(exc)) from None
        site = runtime.sites.current()
        sender = request.client.host if request.client else ""
        camera = camera_for_device(site, SOURCE, alert.channel, alert.mac, alert.serial, alert.address or sender)
        now = datetime.now(UTC)
        if camera is None:
            identity = alert.mac or alert.serial or alert.address or sender
            runtime.unknown_devices.heard(SOURCE, identity, alert.channel, sender, alert.event_type, now)
            raise Rejection(404, "unknown_device", f"no camera in the site file is {identity} channel {alert.channel}")
        if who.role == "gateway" and camera.id not in who.camera_ids:
            raise Rejection(403, "camera_not_allowed", f"this key may not push for camera {camera.id!r}")
    except Rejection as rejection:
        runtime.metrics.device_events.labels(source=SOURCE, outcome=rejection.reason).inc()
        raise
    captured_at = _capture_time(alert, runtime, now)
    if alert.blind:
        event = OfflineEvent(camera.id, "raised", captured_at, now, "offline", f"device reports {alert.event_type}")
        await run_in_threadpool(handle_offline_event, runtime.db, runtime.writer, site, event)
        runtime.metrics.device_events.labels(source=SOURCE, outcome="camera_blind").inc()
        return PushAnswer(camera_id=camera.id, event=alert.event_type, accepted=0, camera_blind=True)
    if not alert.pictures:
        outcome = "heartbeat" if not alert.active else "no_picture"
        runtime.metrics.device_events.labels(source=SOURCE, outcome=outcome).inc()
        return PushAnswer(camera_id=camera.id, event=alert.event_type, accepted=0)
    scene = max(alert.pictures, key=len)  # the full scene; smaller ones are the device's crops of its target
    picture = DevicePicture(camera.id, captured_at, scene, SOURCE, alert.hint())
    try:
        queued = runtime.devices.submit(picture)
    except DiskFullError as exc:
        runtime.metrics.device_events.labels(source=SOURCE, outcome="disk_full").inc()
        raise Rejection(507, "disk_full", str(exc), headers={"Retry-After": "300"}) from None
    if not queued:
        runtime.metrics.device_events.labels(source=SOURCE, outcome="queue_full").inc()
        raise Rejection(
            503, "queue_full", "too many pictures waiting; send again shortly", headers={"Retry-After": "5"}
        )
    runtime.metrics.device_events.labels(source=SOURCE, outcome="accepted").inc()
    back = OfflineEvent(camera.id, "cleared", captured_at, now, "online")  # it sees again: a blind hazard clears
    await run_in_threadpool(handle_offline_event, runtime.db, runtime.writer, site, back)
    return PushAnswer(camera_id=camera.id, event=alert.event_type, accepted=1)


@router.post("/hikvision", response_model=PushAnswer, responses=DISK_FULL)
async def hikvision(request: Request, runtime: RuntimeDep) -> PushAnswer:
    """An ISAPI EventNotificationAlert (XML, JSON, or multipart with its pictures) from a camera or NVR."""
    return await receive(request, runtime, None)


@router.post("/hikvision/{token}", response_model=PushAnswer, responses=DISK_FULL)
async def hikvision_with_key(token: str, request: Request, runtime: RuntimeDep) -> PushAnswer:
    """The same, with the gateway key in the path (for devices whose alarm server sends no credentials)."""
    return await receive(request, runtime, token)
