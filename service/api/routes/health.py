"""Liveness, readiness (database and model reachable) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.api.deps import Services, require, services

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    """The process answers. No authentication, no dependencies."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(svc: Services = Depends(services)) -> JSONResponse:
    """Ready when the database answers and the model is loaded; 503 with the failing check otherwise."""
    checks: dict[str, str] = {}
    try:
        with svc.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, never raises
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        svc.pipeline.pool.wait_ready(timeout=0)
        checks["model"] = "ok" if svc.pipeline.pool._ready.is_set() else "loading"
    except Exception as exc:
        checks["model"] = f"error: {exc}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(_: object = Depends(require("admin")), svc: Services = Depends(services)) -> Response:
    """Prometheus exposition (needs an admin key: scrape with a bearer token)."""
    svc.metrics.queue_depth.set(svc.pipeline.pool.depth)
    svc.metrics.open_hazards.set(svc.pipeline.open_hazard_count())
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
