"""The web pages for people: review desk, hazard pages, cameras and zone editor, audit log.

`install(app)` adds them to the service's FastAPI app: the session middleware, the routers, the static
files (the project's own CSS/JS, nothing fetched from elsewhere) and the page error handlers.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    from service.web.config import WebSettings
    from service.web.pages import STATIC_DIR, install_error_handlers
    from service.web.routes import (
        accounts,
        audit,
        auth,
        cameras,
        campaign,
        fixtures,
        hazard,
        inspect,
        media,
        queue,
        report,
    )
    from service.web.security import SessionMiddleware

    app.state.web_settings = WebSettings()
    app.add_middleware(SessionMiddleware)
    for router in (
        auth.public,
        auth.router,
        queue.router,
        fixtures.router,
        hazard.router,
        cameras.router,
        audit.router,
        media.router,
    ):
        app.include_router(router)
    app.include_router(inspect.router)  # inspections on site (phone page)
    app.include_router(campaign.router)  # the county dashboard and the campaign reports
    app.include_router(report.public)  # residents' report form and tracking (public, no login)
    app.include_router(accounts.router)  # admins: people and API keys
    app.mount("/web/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    install_error_handlers(app)
