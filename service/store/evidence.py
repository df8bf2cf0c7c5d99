"""Evidence files on disk, each written once, atomically, with its SHA-256 kept in the database.

Reading verifies the hash again, so a file altered on disk is refused rather than shown as evidence.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


def is_png(data: bytes) -> bool:
    return data[:4] == b"\x89PNG"


def media_type_of(data: bytes) -> str:
    """Evidence is JPEG or PNG (decoded and checked at the edge); the signature tells which."""
    return "image/png" if is_png(data) else "image/jpeg"


def suffix_of(data: bytes) -> str:
    return "png" if is_png(data) else "jpg"


class EvidenceTamperedError(RuntimeError):
    """The file on disk no longer matches the hash recorded when it was stored."""


@dataclass(frozen=True)
class StoredFile:
    relative_path: str
    sha256: str
    size_bytes: int


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _resolve(self, relative_path: str) -> Path:
        path = (self.root / relative_path).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"evidence path escapes the evidence directory: {relative_path!r}")
        return path

    def save(self, relative_path: str, data: bytes, sha256: str | None = None) -> StoredFile:
        """Write `data` atomically (temp file + rename) and return its hash (`sha256`: the caller's own, when
        it has hashed these bytes already: a frame is hashed once, on arrival)."""
        path = self._resolve(relative_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredFile(relative_path, sha256 or hashlib.sha256(data).hexdigest(), len(data))

    def read_verified(self, relative_path: str, sha256: str) -> bytes:
        data = self._resolve(relative_path).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise EvidenceTamperedError(f"evidence file {relative_path} does not match its recorded SHA-256")
        return data

    def exists(self, relative_path: str) -> bool:
        return self._resolve(relative_path).is_file()

    def remove(self, relative_path: str) -> None:
        """Delete a file that is no longer needed (a frame the workers have applied); gone already is fine."""
        self._resolve(relative_path).unlink(missing_ok=True)
