"""Text no store can keep is refused at the door: NUL characters and lone UTF-16 surrogates.

Why: PostgreSQL refuses NUL in text, and neither database (nor UTF-8) can encode a lone surrogate such as the
JSON escape "\\ud800"; reaching the store they fail as a 500. So the query string, and JSON or form bodies, are
checked once here, for every route and page: a 422 with reason `bad_text` says which part held it.
Bodies of other types (images, multipart uploads) pass untouched; their text fields are short and checked by
their own forms' validation.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded")
MAX_CHECKED = 1024 * 1024  # larger bodies are refused by their own size limits


def unstorable(text: str) -> bool:
    return "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _body_problem(body: bytes, content_type: str) -> bool:
    if content_type.startswith("application/json"):
        try:
            return any(unstorable(s) for s in _strings(json.loads(body)))
        except (ValueError, RecursionError):
            return False  # not JSON at all: the route's own parser answers that
    text = body.decode("utf-8", errors="surrogateescape")
    return any(unstorable(k) or unstorable(v) for k, v in parse_qsl(text, keep_blank_values=True)) or "\x00" in text


class TextGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(query, keep_blank_values=True, errors="surrogateescape")
        if any(unstorable(k) or unstorable(v) for k, v in pairs):
            await _refuse(send, "the query string holds a NUL character or text that is not valid UTF-8")
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        declared = headers.get(b"content-length", b"")
        if not content_type.startswith(CHECKED_BODIES) or (declared.isdigit() and int(declared) > MAX_CHECKED):
            await self.app(scope, receive, send)  # not text, or too large for any of our forms: the route refuses
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_CHECKED:
                await _refuse(send, f"a text body is limited to {MAX_CHECKED} bytes", 413, "too_large")
                return
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if _body_problem(body, content_type):
            await _refuse(send, "the body holds a NUL character or a lone surrogate, which cannot be stored")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, message: str, status: int = 422, reason: str = "bad_text") -> None:
    payload = json.dumps({"detail": {"reason": reason, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
