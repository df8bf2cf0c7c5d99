"""Which partition a camera's frames go to, and the NATS subjects they travel on.

A camera always lands on the same partition, in every process and after every restart, so one worker
(the partition's owner) sees all of that camera's frames in order. Python's `hash()` is salted per
process, so the partition comes from CRC-32 of the id's UTF-8 bytes instead.

Subjects are `clearway.frames.<partition>.<camera token>`. Camera ids may hold characters a NATS
subject token cannot (`.`, `*`, `>`, whitespace) or should not (anything outside letters, digits, `-`, `_`),
so the token escapes every other UTF-8 byte as `_XX` (upper-case hex, `_` itself included): readable for
ordinary ids, reversible for all of them, and two different ids never share a token.
"""

from __future__ import annotations

import re
import zlib

SUBJECT_ROOT = "clearway.frames"
"""Every frame subject starts with this; the stream captures `clearway.frames.>`."""

_PLAIN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_TOKEN = re.compile(r"^(?:[A-Za-z0-9-]|_[0-9A-F]{2})+$")
_DIGITS = re.compile(r"^(?:0|[1-9][0-9]{0,8})$")


def partition_of(camera_id: str, partitions: int) -> int:
    """The camera's partition in `0..partitions-1`: CRC-32 of the UTF-8 id, modulo the count (stable)."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    if not camera_id:
        raise ValueError("camera id is empty")
    return zlib.crc32(camera_id.encode("utf-8")) % partitions


def camera_token(camera_id: str) -> str:
    """The camera id as one valid subject token: letters, digits and `-` kept, every other byte `_XX`."""
    if not camera_id:
        raise ValueError("camera id is empty")
    return "".join(chr(b) if b in _PLAIN else f"_{b:02X}" for b in camera_id.encode("utf-8"))


def camera_of_token(token: str) -> str:
    """The camera id a token was made from (`camera_token`'s inverse); ValueError for anything else."""
    if not _TOKEN.match(token):
        raise ValueError(f"not a camera token: {token!r}")
    out = bytearray()
    i = 0
    while i < len(token):
        if token[i] == "_":
            out.append(int(token[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(ord(token[i]))
            i += 1
    camera_id = out.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if camera_token(camera_id) != token:  # e.g. "_41" for "A": one id, one token
        raise ValueError(f"not a canonical camera token: {token!r}")
    return camera_id


def frame_subject(partition: int, camera_id: str) -> str:
    """The subject a camera's frame is published on: `clearway.frames.<partition>.<camera token>`."""
    if partition < 0:
        raise ValueError(f"partition must not be negative, not {partition}")
    return f"{SUBJECT_ROOT}.{partition}.{camera_token(camera_id)}"


def partition_filter(partition: int) -> str:
    """The consumer filter that takes exactly one partition's frames: `clearway.frames.<partition>.>`."""
    if partition < 0:
        raise ValueError(f"partition must not be negative, not {partition}")
    return f"{SUBJECT_ROOT}.{partition}.>"


def parse_subject(subject: str) -> tuple[int, str]:
    """(partition, camera id) of a frame subject; ValueError when it is not one."""
    prefix = SUBJECT_ROOT + "."
    if not subject.startswith(prefix):
        raise ValueError(f"not a frame subject: {subject!r}")
    parts = subject[len(prefix) :].split(".")
    if len(parts) != 2 or not _DIGITS.match(parts[0]):
        raise ValueError(f"not a frame subject: {subject!r}")
    return int(parts[0]), camera_of_token(parts[1])
