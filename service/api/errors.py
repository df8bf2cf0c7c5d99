"""Domain errors as HTTP answers: a status code and `{"detail": {"reason", "message"}}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service.actions.errors import ActionError, Conflict, Forbidden, Gone, Invalid, NotFound, TooLarge, Unavailable

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422, Gone: 410, TooLarge: 413, Unavailable: 503}


class ErrorDetail(BaseModel):
    reason: str = Field(description="a stable code, e.g. not_found, bad_week, too_large")
    message: str = Field(description="what happened, for a person")


class ErrorAnswer(BaseModel):
    detail: ErrorDetail | str | list = Field(description="the reason and message; a list for validation errors")


_ERRORS = {
    400: "the body could not be read (not JSON, a broken multipart...)",
    401: "no API key, or one that is unknown or revoked",
    403: "the key's role or scope may not do this",
    404: "absent, or outside the caller's scope",
    409: "not possible in the object's current state",
    413: "the body or picture is too large",
    415: "a content type the route does not take",
    422: "a value the route refuses (with its reason)",
    429: "too many requests or frames waiting; retry after Retry-After",
    503: "busy or unavailable; retry after Retry-After",
}
COMMON_RESPONSES: dict[int | str, dict] = {
    code: {"model": ErrorAnswer, "description": d} for code, d in _ERRORS.items()
}
"""Documented for every operation (FastAPI(responses=...)): any route can answer these."""


def status_of(error: ActionError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ActionError)
    async def _action_error(_: Request, error: ActionError) -> JSONResponse:
        return JSONResponse({"detail": {"reason": error.reason, "message": error.message}}, status_of(error))
