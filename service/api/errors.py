"""Every refusal of the API in one shape: a status code and `{"detail": {"reason", "message"}}`.

Domain errors (service/actions), the routes' own `Rejection`s, FastAPI's `HTTPException`s (401 and 403 from
service/deps.py), Starlette's routing answers (an unknown path, a wrong method) and request validation all
answer it, so a client reads one field, `detail.reason`, whatever refused it. Validation errors add the list
of field errors (`detail.errors`). Open311 keeps the list of `{code, description}` its standard asks for.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.actions.errors import ActionError, Conflict, Forbidden, Gone, Invalid, NotFound, TooLarge, Unavailable

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422, Gone: 410, TooLarge: 413, Unavailable: 503}
DEFAULT_REASONS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}
"""The reason of a refusal raised without one (a plain HTTPException, Starlette's 404 and 405)."""
OWN_FORMAT_PREFIXES = ("/open311/",)
"""Paths whose standard fixes another error format (Open311's list of {code, description})."""


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: e.g. ['query', 'limit'] or ['body', 'reason']")
    msg: str = Field(description="what is wrong with it")
    type: str = Field(description="a stable code for the kind of mistake, e.g. missing, int_parsing")


class ErrorDetail(BaseModel):
    reason: str = Field(description="a stable code, e.g. not_found, bad_week, too_large (README: the reasons table)")
    message: str = Field(description="what happened, for a person")
    errors: list[FieldError] | None = Field(default=None, description="validation errors (422 invalid): per field")


class ErrorAnswer(BaseModel):
    detail: ErrorDetail


_ERRORS = {
    400: "the body could not be read (not JSON, a broken multipart...)",
    401: "no API key, or one that is unknown or revoked",
    403: "the key's role or scope may not do this",
    404: "absent, or outside the caller's scope",
    405: "the path does not take this method",
    409: "not possible in the object's current state",
    413: "the body or picture is too large",
    415: "a content type the route does not take",
    422: "a value the route refuses (with its reason; field errors in detail.errors)",
    429: "too many requests or frames waiting; retry after Retry-After",
    503: "busy or unavailable; retry after Retry-After",
}
_ROUTER_MESSAGES = {
    404: "no such path: the API's paths are listed at /docs",
    405: "the path does not take this method: see /docs",
}
COMMON_RESPONSES: dict[int | str, dict] = {
    code: {"model": ErrorAnswer, "description": d} for code, d in _ERRORS.items()
}
"""Documented for every operation (FastAPI(responses=...)): any route can answer these."""


def status_of(error: ActionError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


def refusal(status: int, reason: str, message: str, headers: dict[str, str] | None = None, **extra: object) -> Response:
    """The one error answer: `{"detail": {"reason", "message", ...}}`."""
    detail = {"reason": reason, "message": message} | extra
    return JSONResponse({"detail": jsonable_encoder(detail)}, status, headers=headers)


def _own_format(request: Request) -> bool:
    return request.url.path.startswith(OWN_FORMAT_PREFIXES)


def _field_error(error: dict) -> dict:
    return {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}


def validation_answer(errors: list[dict]) -> Response:
    fields = [_field_error(e) for e in errors]
    first = fields[0] if fields else {"loc": [], "msg": "the request is not valid"}
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['msg']}" if where else first["msg"]
    if len(fields) > 1:
        message += f" (and {len(fields) - 1} more)"
    return refusal(422, "invalid", message, errors=fields)


def http_answer(status: int, detail: object, headers: dict[str, str] | None) -> Response:
    """A raised HTTPException in the shape: a dict detail with a reason is kept, a string becomes the message."""
    if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
        extra = {k: v for k, v in detail.items() if k not in ("reason", "message")}
        return refusal(status, detail["reason"], str(detail.get("message", "")), headers, **extra)
    reason = DEFAULT_REASONS.get(status, DEFAULT_REASONS[400 if status < 500 else 503])
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    if detail is None or detail == phrase:  # Starlette's own answer (unknown path, wrong method): say more
        detail = _ROUTER_MESSAGES.get(status) or _ERRORS.get(status, phrase)
    return refusal(status, reason, str(detail), headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ActionError)
    async def _action_error(_: Request, error: ActionError) -> Response:
        return refusal(status_of(error), error.reason, error.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _own_format(request):
            return await http_exception_handler(request, error)
        return http_answer(error.status_code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        if _own_format(request):
            return await request_validation_exception_handler(request, error)
        return validation_answer(list(error.errors()))
