"""Incremental parser for endless `multipart/x-mixed-replace` bodies (Dahua event and snapshot streams).

Hand-written rather than python-multipart (already a dependency): that parser is built for finite
`multipart/form-data` request bodies. It insists on CRLF line ends (it refuses the LF-only streams some
camera firmware sends), ignores each part's own Content-Length and bounds only the whole body, which an
endless stream does not have. Cameras need the opposite: per-part bounds, Content-Length when given (a
JPEG is then taken by length, not scanned), tolerance for LF line ends, for a missing blank line after
the headers and for junk between parts, and resynchronisation at the next delimiter line.

`feed()` accepts chunks split anywhere (inside a delimiter, a header, a CRLF) and returns the parts
completed so far. Memory is bounded: a part larger than `max_part_bytes` or headers larger than
`max_header_bytes` raise, and the reader drops the connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

JPEG_MAGIC = b"\xff\xd8\xff"
_HEADER = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*:")  # an RFC 9110 field name, then a colon


class MultipartError(ValueError):
    """The stream cannot be parsed (no boundary, oversize headers): drop the connection."""


class PartTooLarge(MultipartError):
    """A part exceeds the bound (declared by Content-Length or found while scanning)."""


def boundary_of(content_type: str) -> str:
    """The boundary from a Content-Type header; MultipartError if it is not multipart or has none."""
    media, _, params = content_type.partition(";")
    if not media.strip().lower().startswith("multipart/"):
        raise MultipartError(f"not a multipart answer (Content-Type {media.strip() or 'missing'!r})")
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"')
    raise MultipartError("multipart answer without a boundary")


@dataclass(frozen=True)
class Part:
    """One part: its headers (lower-case names) and its body, exactly as sent."""

    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/") or self.body.startswith(JPEG_MAGIC)

    @property
    def is_heartbeat(self) -> bool:
        return not self.is_image and self.body.strip().lower() == b"heartbeat"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class MultipartStream:
    """Feed it the body's bytes as they arrive; it returns whole parts."""

    def __init__(self, boundary: str, max_part_bytes: int = 8 * 2**20, max_header_bytes: int = 16 * 2**10) -> None:
        dashed = boundary if boundary.startswith("--") else "--" + boundary
        # Some firmware puts the leading dashes into the header's boundary as well: accept either spelling.
        self._delimiters = {("--" + boundary).encode("latin-1"), dashed.encode("latin-1")}
        self._marker = min(self._delimiters, key=len)  # the shorter spelling is inside the longer one
        self.max_part_bytes = max_part_bytes
        self.max_header_bytes = max_header_bytes
        self.closed = False  # the closing delimiter (--boundary--) was seen
        self.skipped_bytes = 0  # junk between parts, thrown away while looking for a delimiter
        self._buffer = bytearray()
        self._state = "delimiter"  # delimiter -> headers -> body -> delimiter ...
        self._headers: dict[str, str] = {}
        self._header_bytes = 0
        self._scanned = 0  # body bytes already searched for a delimiter (no Content-Length)

    def feed(self, data: bytes) -> list[Part]:
        """Add bytes; return the parts they completed (possibly none)."""
        self._buffer += data
        parts: list[Part] = []
        while not self.closed:
            if self._state == "delimiter":
                progressed = self._delimiter()
            elif self._state == "headers":
                progressed = self._header_line()
            else:
                part = self._body()
                progressed = part is not None
                if part is not None:
                    parts.append(part)
            if not progressed:
                break
        return parts

    def _line(self) -> bytes | None:
        """The next whole line without its line end, or None until one has arrived."""
        end = self._buffer.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._buffer[:end]).rstrip(b"\r")
        del self._buffer[: end + 1]
        return line

    def _delimiter(self) -> bool:
        line = self._line()
        if line is None:
            if len(self._buffer) > self.max_header_bytes:  # junk without line ends: keep only a possible start
                keep = len(self._marker) + 2
                self.skipped_bytes += len(self._buffer) - keep
                del self._buffer[:-keep]
            return False
        stripped = line.strip()
        if stripped in self._delimiters:
            self._start_part()
        elif stripped.endswith(b"--") and stripped[:-2] in self._delimiters:
            self.closed = True
        else:
            self.skipped_bytes += len(line) + 1  # blank lines after a body, or junk before the first part
        return True

    def _start_part(self) -> None:
        self._state, self._headers, self._header_bytes, self._scanned = "headers", {}, 0, 0

    def _header_line(self) -> bool:
        end = self._buffer.find(b"\n")
        if end < 0:
            if self._header_bytes + len(self._buffer) > self.max_header_bytes:
                raise MultipartError(f"part headers longer than {self.max_header_bytes} bytes")
            return False
        line = bytes(self._buffer[:end]).rstrip(b"\r")
        self._header_bytes += end + 1
        if self._header_bytes > self.max_header_bytes:
            raise MultipartError(f"part headers longer than {self.max_header_bytes} bytes")
        if not line.strip():
            del self._buffer[: end + 1]
            self._state = "body"
        elif line.strip() in self._delimiters:  # an empty part: start again
            del self._buffer[: end + 1]
            self._start_part()
        elif _HEADER.match(line):
            del self._buffer[: end + 1]
            name, _, value = line.decode("latin-1").partition(":")
            self._headers[name.strip().lower()] = value.strip()
        else:  # no blank line after the headers (seen in Dahua's own examples): the body starts here
            self._state = "body"
        return True

    def _declared_length(self) -> int | None:
        value = self._headers.get("content-length", "").strip()
        if not value.isdigit():
            return None
        length = int(value)
        if length > self.max_part_bytes:
            raise PartTooLarge(f"a part of {length} bytes was announced; the limit is {self.max_part_bytes}")
        return length

    def _body(self) -> Part | None:
        length = self._declared_length()
        if length is not None:
            if len(self._buffer) < length:
                return None
            body = bytes(self._buffer[:length])
            del self._buffer[:length]
        else:
            body = self._scan_to_delimiter()
            if body is None:
                return None
        self._state = "delimiter"  # the rest of the line and any blank lines are skipped there
        return Part(dict(self._headers), body)

    def _scan_to_delimiter(self) -> bytes | None:
        """Without Content-Length the body runs to the line break before the next delimiter line."""
        if self._buffer.startswith(self._marker):
            return b""
        marker = b"\n" + self._marker
        start = max(0, self._scanned - len(marker))
        at = self._buffer.find(marker, start)
        if at < 0:
            self._scanned = len(self._buffer)
            if len(self._buffer) > self.max_part_bytes + len(marker):
                raise PartTooLarge(f"a part grew past {self.max_part_bytes} bytes without a delimiter")
            return None
        end = at - 1 if at > 0 and self._buffer[at - 1] == 0x0D else at
        body = bytes(self._buffer[:end])
        del self._buffer[: at + 1]  # the delimiter line stays for the delimiter state
        return body
