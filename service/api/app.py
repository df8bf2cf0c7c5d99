"""The FastAPI application: routers, start-up and shut-down of the runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from service.api.errors import COMMON_RESPONSES, install_error_handlers
from service.api.routes import (
    cameras,
    campaign,
    deliveries,
    device_push,
    fixtures,
    frames,
    hazards,
    health,
    intake,
    ledger,
    open311,
)
from service.api.text_guard import TextGuard
from service.config.settings import Settings, get_settings
from service.runtime import DetectorFactory, build_runtime
from service.web import install as install_web

log = logging.getLogger("clearway.api")


def _to_the_desk() -> RedirectResponse:
    """The bare address is where people start: the review desk (which sends an anonymous visitor to log in)."""
    return RedirectResponse("/web/hazards", status_code=307)


def create_app(settings: Settings | None = None, detector_factory: DetectorFactory | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings, detector_factory)
        app.state.runtime = runtime
        cameras = len(runtime.sites.current().cameras)
        log.info("clearway ready: %d cameras, database %s", cameras, runtime.db.engine.url)
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="Clearway",
        version="0.1.0",
        description="Fire lanes and evacuation routes kept clear: frames in, hazard events out.",
        lifespan=lifespan,
        responses=COMMON_RESPONSES,
    )
    routers = (health, frames, device_push, intake, fixtures, hazards, cameras, deliveries, ledger, campaign, open311)
    for module in routers:  # intake and fixtures before hazards: /propose, /{id}/fixture
        app.include_router(module.router)
    app.add_api_route("/", _to_the_desk, include_in_schema=False)
    install_error_handlers(app)  # every refusal as {detail: {reason, message}} (service/api/errors.py)
    install_web(app)  # review desk and zone editor (service/web)
    app.add_middleware(TextGuard)  # outermost: NUL and lone surrogates never reach a route (or the store)
    return app
