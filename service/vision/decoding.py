"""Turn uploaded bytes into a BGR image, refusing anything that is not a sane JPEG or PNG.

The header is read first (no pixel decoding) so a decompression bomb is refused before any memory is spent
on it; then Pillow decodes once, raising on truncated data.

Camera frames are decoded at the size the model needs (`fit`): a JPEG's DCT scaling (Pillow's `draft`, i.e.
libjpeg's scaled decode) gives ½, ¼ or ⅛ of the picture straight from the compressed data, never smaller than
`fit` on its long side. A 4K JPEG decodes so in a third of the time of a full decode. The bytes as received stay
the evidence; `decode_full` decodes them whole when a hazard's pictures are drawn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
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


@dataclass(frozen=True)
class Decoded:
    image: np.ndarray  # BGR uint8, reduced when decoded to fit
    media_type: str
    size: tuple[int, int]  # the picture's own width and height

    @property
    def reduced(self) -> bool:
        return (int(self.image.shape[1]), int(self.image.shape[0])) != self.size


def decode_image(data: bytes, max_pixels: int) -> tuple[np.ndarray, str]:
    """Return (BGR uint8 image at full size, media type) or raise ImageRejectedError."""
    decoded = decode(data, max_pixels)
    return decoded.image, decoded.media_type


def decode_full(data: bytes) -> np.ndarray:
    """Bytes already accepted by `decode`, decoded whole (evidence, the second look's crop): OpenCV's decoder,
    the faster one, now that Pillow has checked the data."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None else decode(data, max_pixels=2**62).image


def draft_size(width: int, height: int, fit: int) -> tuple[int, int] | None:
    """The smallest size a JPEG may be decoded to and still have `fit` pixels on its long side; None: full."""
    scale = fit / max(width, height)
    if scale >= 0.5:  # no DCT scale of ½ or less would keep the long side at `fit`
        return None
    return max(math.ceil(width * scale), 1), max(math.ceil(height * scale), 1)


def decode(data: bytes, max_pixels: int, fit: int | None = None) -> Decoded:
    """The picture, refused with ImageRejectedError unless a sane JPEG or PNG; JPEGs reduced to `fit`."""
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
    target = draft_size(width, height, fit) if fit is not None and fmt == "JPEG" else None
    try:
        if target is not None:
            header.draft("RGB", target)  # libjpeg decodes at ½, ¼ or ⅛ directly
        header.load()  # one decode: Pillow raises on truncated data where OpenCV pads silently
        rgb = np.asarray(header if header.mode == "RGB" else header.convert("RGB"))
    except (OSError, SyntaxError, ValueError):
        raise ImageRejectedError("truncated", "the image data is truncated or corrupt") from None
    return Decoded(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), ALLOWED_FORMATS[fmt], (width, height))
