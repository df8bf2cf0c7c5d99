"""POST /api/v1/cameras/{camera_id}/frames: a gateway pushes one still image.

Accepts a raw JPEG/PNG body or multipart/form-data (field `image`, optional field `captured_at`).
`captured_at` (ISO 8601 with time zone, or Unix seconds) may also come as a query parameter or the
`X-Captured-At` header; without it the receive time is used. Every refusal is a 4xx with a reason and a
counted metric (`clearway_frames_rejected_total{reason=...}`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service.api.errors import ErrorAnswer
from service.auth.keys import Principal
from service.cluster.broker import BrokerUnavailable
from service.deps import RuntimeDep, require
from service.frame_flow import FrameQueued, FrameResult
from service.runtime import Runtime
from service.store.disk import DiskFullError
from service.store.instants import bounded
from service.vision.decoding import ImageRejectedError, decode
from service.vision.pool import QueueFullError
from service.vision.types import Frame

router = APIRouter(prefix="/api/v1", tags=["frames"])
RAW_TYPES = {"image/jpeg", "image/png", "application/octet-stream"}
DISK_FULL: dict[int | str, dict] = {
    507: {"model": ErrorAnswer, "description": "the disk is nearly full: new frames refused; retry after Retry-After"}
}


class DetectionView(BaseModel):
    class_name: str
    category: str = Field(description="vehicle, two_wheeler, clutter or person")
    confidence: float
    box: list[float] = Field(description="x1, y1, x2, y2 in pixels")
    origin: str = Field(description="model (the detector) or static (the unknown-object model)")
    track_id: int
    zones: list[str] = Field(default_factory=list, description="zones the object counts in")
    fixture: int | None = Field(default=None, description="the fixture mark it is: ignored (docs/alerts.md)")


class HazardChangeView(BaseModel):
    change: str = Field(description="opened, updated, cleared, earlier (a late frame) or entered (a lift)")
    hazard_id: int | None
    key: str | None = Field(default=None, description="only when no stored hazard matches the change")
    status: str | None = None
    zone: str | None = None
    zone_type: str | None = None
    category: str | None = None
    severity: str | None = None
    clear_width_m: float | None = None


class FrameAnswer(BaseModel):
    frame_id: str
    camera_id: str
    captured_at: str = Field(description="ISO 8601, UTC")
    late: bool = Field(description="older than a frame already seen: stored, but the dwell clock does not move")
    duplicate: bool = Field(description="byte-identical to an earlier frame: answered with that frame's id")
    detections: list[DetectionView] = Field(default_factory=list)
    hazards: list[HazardChangeView] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


class FrameQueuedAnswer(BaseModel):
    frame_id: str
    camera_id: str
    captured_at: str = Field(description="ISO 8601, UTC")
    queued: bool = Field(description="always true: stored and acknowledged by the broker, a worker applies it")
    partition: int = Field(description="the camera's partition (docs/scale.md)")
    duplicate: bool = Field(description="the broker had this frame already (a retry): stored once")


FRAME_RESPONSES: dict[int | str, dict] = DISK_FULL | {
    202: {"model": FrameQueuedAnswer, "description": "roles ingest and worker: queued for the camera's worker"}
}


class Rejection(HTTPException):
    def __init__(self, code: int, reason: str, message: str, headers: dict | None = None) -> None:
        super().__init__(code, {"reason": reason, "message": message}, headers=headers)
        self.reason = reason


def _parse_time(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Rejection(422, "bad_captured_at", f"captured_at {value!r} is not ISO 8601 or Unix seconds") from None


def parse_captured_at(value: str | None, now: datetime, max_skew_s: float) -> datetime:
    """Parse and check a capture time; refuse naive, unparseable and far-future times."""
    if value is None or value == "":
        return now
    when = _parse_time(value)
    if when.tzinfo is None:
        raise Rejection(422, "bad_captured_at", "captured_at needs a time zone, e.g. 2026-05-01T08:00:00+08:00")
    held = bounded(when, UTC)
    if held is None:
        raise Rejection(422, "bad_captured_at", f"captured_at {value!r} is not a time the service can hold")
    when = held
    if when > now + timedelta(seconds=max_skew_s):
        raise Rejection(422, "future_captured_at", f"captured_at {when.isoformat()} is in the future (clock skew?)")
    if when.year < 2000:
        raise Rejection(422, "bad_captured_at", f"captured_at {when.isoformat()} is implausibly old")
    return when


async def read_capped(request: Request, limit: int) -> bytes:
    """Read the body, refusing (413) as soon as it exceeds `limit`, whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejection(413, "too_large", f"body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejection(413, "too_large", f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def _image_and_time(request: Request, limit: int) -> tuple[bytes, str | None]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in RAW_TYPES and content_type != "multipart/form-data":
        raise Rejection(
            415,
            "unsupported_media_type",
            f"content type {content_type or '(none)'!r} is not accepted: send image/jpeg, image/png or multipart",
        )
    body = await read_capped(request, limit + 64 * 1024 if content_type == "multipart/form-data" else limit)
    captured = request.query_params.get("captured_at") or request.headers.get("x-captured-at")
    if content_type != "multipart/form-data":
        return body, captured
    request._body = body  # let Starlette parse the form from the bytes already read (and capped)
    try:
        form = await request.form(max_files=1, max_fields=5)
    except Exception:
        raise Rejection(400, "bad_multipart", "multipart body could not be parsed") from None
    upload = form.get("image") or form.get("file")
    if upload is None or isinstance(upload, str):
        raise Rejection(422, "missing_image", "multipart body needs a file field named 'image'")
    data = await upload.read()
    if len(data) > limit:
        raise Rejection(413, "too_large", f"image is over the {limit}-byte limit")
    form_time = form.get("captured_at")
    return data, (form_time if isinstance(form_time, str) else None) or captured


@router.post(
    "/cameras/{camera_id}/frames",
    status_code=status.HTTP_201_CREATED,
    response_model=FrameAnswer,
    response_model_exclude_unset=True,
    responses=FRAME_RESPONSES,
)
async def push_frame(
    camera_id: str,
    request: Request,
    runtime: RuntimeDep,
    who: Principal = Depends(require("gateway", "admin")),
) -> JSONResponse:
    """Process one frame: detections, zones, dwell; answers with the frame id, detections and hazard changes."""
    try:
        camera = runtime.sites.current().camera(camera_id)
        if camera is None:
            raise Rejection(404, "unknown_camera", f"camera {camera_id!r} is not in the site configuration")
        if who.role == "gateway" and camera_id not in who.camera_ids:
            raise Rejection(403, "camera_not_allowed", f"this key may not push frames for camera {camera_id!r}")
        if runtime.disk is not None:
            try:
                runtime.disk.check()  # before reading the body: refused at once, nothing half written
            except DiskFullError as exc:
                raise Rejection(507, "disk_full", str(exc), headers={"Retry-After": "300"}) from None
        data, captured = await _image_and_time(request, runtime.settings.max_upload_bytes)
        now = datetime.now(UTC)
        captured_at = parse_captured_at(captured, now, runtime.settings.max_clock_skew_s)
        result = await run_in_threadpool(_decode_and_process, runtime, camera_id, captured_at, data)
    except Rejection as rejection:
        runtime.metrics.reject(rejection.reason)
        raise
    # Answered as built, not validated again against the response model (which documents it, and which the
    # contract tests hold it to): that validation cost as much as a database statement per frame.
    code = status.HTTP_202_ACCEPTED if isinstance(result, FrameQueued) else status.HTTP_201_CREATED
    return JSONResponse(result.to_json(), status_code=code)


def _decode_and_process(
    runtime: Runtime, camera_id: str, captured_at: datetime, data: bytes
) -> FrameResult | FrameQueued:
    """Decode and process in one worker-thread call: each hand-off between the event loop and a thread costs
    the GIL as much as a database statement."""
    started = time.perf_counter()
    try:
        decoded = decode(data, runtime.settings.max_pixels, runtime.settings.decode_fit)
    except ImageRejectedError as exc:
        code = 413 if exc.reason == "too_many_pixels" else 422
        raise Rejection(code, exc.reason, str(exc)) from None
    decode_ms = (time.perf_counter() - started) * 1000
    frame = Frame(camera_id, captured_at, decoded.image, "push", encoded=data, size=decoded.size)
    try:
        result = runtime.intake(frame)
    except BrokerUnavailable as exc:
        raise Rejection(503, "broker_unavailable", f"frame not queued: {exc}", headers={"Retry-After": "2"}) from None
    except QueueFullError:
        raise Rejection(
            429, "queue_full", "inference queue is full; retry shortly", headers={"Retry-After": "2"}
        ) from None
    except TimeoutError:
        raise Rejection(503, "inference_timeout", "inference took too long; retry later") from None
    if isinstance(result, FrameQueued):
        return result
    result.timings_ms["decode"] = decode_ms
    runtime.metrics.stage_seconds.labels(stage="decode").observe(decode_ms / 1000)
    return result
