"""Turn uploaded bytes into a BGR image, refusing anything that is not a sane JPEG or PNG.

The header is read first (no pixel decoding) so a decompression bomb is refused before any memory is spent
on it; then Pillow decodes once, raising on truncated data.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, JpegImagePlugin, PngImagePlugin

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class ImageRejectedError(ValueError):
    """An image we will not process; `reason` is a short metric label, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _plugin_for(data: bytes) -> tuple[str, Callable[[io.BytesIO], Image.Image]] | None:
    """Pick the decoder by magic bytes. Pillow's plugins are called directly rather than through
    Image.open, which Ultralytics patches to fetch optional HEIF support at run time."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG", JpegImagePlugin.JpegImageFile
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG", PngImagePlugin.PngImageFile
    return None


def decode_image(data: bytes, max_pixels: int) -> tuple[np.ndarray, str]:
    """Return (BGR uint8 image, media type) or raise ImageRejectedError."""
    if not data:
        raise ImageRejectedError("empty", "the request body is empty: send a JPEG or PNG image")
    plugin = _plugin_for(data)
    if plugin is None:
        if data[:6] in (b"GIF87a", b"GIF89a") or data[:2] == b"BM" or data[:4] in (b"RIFF", b"II*\x00", b"MM\x00*"):
            raise ImageRejectedError("unsupported_format", "this image format is not accepted: send JPEG or PNG")
        raise ImageRejectedError("not_an_image", "the body is not a readable JPEG or PNG image")
    fmt, opener = plugin
    try:
        header = opener(io.BytesIO(data))  # parses the header only: no pixels decoded yet
        width, height = header.size
    except (OSError, SyntaxError, ValueError):
        raise ImageRejectedError("not_an_image", f"the body is not a readable {fmt} image") from None
    if width * height > max_pixels:
        raise ImageRejectedError(
            "too_many_pixels", f"image is {width}x{height} = {width * height} pixels; the limit is {max_pixels}"
        )
    if width < 16 or height < 16:
        raise ImageRejectedError("too_small", f"image is {width}x{height}; at least 16x16 is needed")
    try:
        header.load()  # full decode, once: Pillow raises on truncated data where OpenCV pads silently
        rgb = np.asarray(header.convert("RGB"))
    except (OSError, SyntaxError, ValueError):
        raise ImageRejectedError("truncated", "the image data is truncated or corrupt") from None
    return np.ascontiguousarray(rgb[:, :, ::-1]), ALLOWED_FORMATS[fmt]
