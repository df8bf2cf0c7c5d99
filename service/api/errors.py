"""Domain errors as HTTP answers: a status code and `{"detail": {"reason", "message"}}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from service.actions.errors import ActionError, Conflict, Forbidden, Gone, Invalid, NotFound, TooLarge, Unavailable

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422, Gone: 410, TooLarge: 413, Unavailable: 503}


def status_of(error: ActionError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ActionError)
    async def _action_error(_: Request, error: ActionError) -> JSONResponse:
        return JSONResponse({"detail": {"reason": error.reason, "message": error.message}}, status_of(error))
