"""Liveness, readiness (database and model reachable) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text

from service.deps import RuntimeDep, SessionDep, require
from service.store.queries import count_active_hazards

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(description="ok, or disk_low while new frames are refused (507)")
    disk: dict | None = Field(default=None, description="free_bytes, total_bytes, min_free_bytes, path (disk_low)")


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz(runtime: RuntimeDep) -> Health:
    """The process answers. No authentication. Always 200 (a liveness probe must not restart the service for a
    full disk): `status` says disk_low, with the figures, while new frames are refused."""
    if runtime.disk is not None:
        state = runtime.disk.state()
        if not state.ok:
            return Health(status="disk_low", disk=state.to_json())
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "not ready"}})
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Ready when the database answers and the model is loaded; 503 with the failing check otherwise."""
    checks: dict[str, str] = {}
    try:
        with runtime.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, never raises
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.settings.role != "ingest":  # an ingest process runs no model
        try:
            checks["model"] = "ok" if runtime.pool.wait_ready(timeout=0) else "loading"
        except Exception as exc:
            checks["model"] = f"error: {exc}"
    if runtime.cluster is not None:
        checks["broker"] = "ok" if runtime.cluster.link.broker.connected else "disconnected"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    dependencies=[Depends(require("admin"))],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}},
)
def metrics(runtime: RuntimeDep, session: SessionDep) -> Response:
    """Prometheus exposition (needs an admin key: scrape with a bearer token)."""
    runtime.metrics.queue_depth.set(runtime.pool.depth)
    runtime.metrics.open_hazards.set(count_active_hazards(session))
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
