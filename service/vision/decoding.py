"""Turn uploaded bytes into a BGR image, refusing anything that is not a sane JPEG or PNG.

The header is read first (Pillow, no pixel decoding) so a decompression bomb is refused before any memory
is spent on it; then OpenCV decodes, and a truncated file is caught by Pillow's full verify.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class ImageRejectedError(ValueError):
    """An image we will not process; `reason` is a short metric label, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode_image(data: bytes, max_pixels: int) -> tuple[np.ndarray, str]:
    """Return (BGR uint8 image, media type) or raise ImageRejectedError."""
    if not data:
        raise ImageRejectedError("empty", "the request body is empty: send a JPEG or PNG image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            header = Image.open(io.BytesIO(data))
            fmt, (width, height) = header.format, header.size
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError, OSError) as exc:
        if isinstance(exc, Image.DecompressionBombWarning | Image.DecompressionBombError):
            raise ImageRejectedError("too_many_pixels", f"image has too many pixels: {exc}") from None
        raise ImageRejectedError("not_an_image", "the body is not a readable JPEG or PNG image") from None
    if fmt not in ALLOWED_FORMATS:
        raise ImageRejectedError("unsupported_format", f"image format {fmt} is not accepted: send JPEG or PNG")
    if width * height > max_pixels:
        raise ImageRejectedError(
            "too_many_pixels", f"image is {width}x{height} = {width * height} pixels; the limit is {max_pixels}"
        )
    if width < 16 or height < 16:
        raise ImageRejectedError("too_small", f"image is {width}x{height}; at least 16x16 is needed")
    try:
        Image.open(io.BytesIO(data)).load()  # full decode: raises on truncated data
    except (OSError, SyntaxError):
        raise ImageRejectedError("truncated", "the image data is truncated or corrupt") from None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageRejectedError("truncated", "the image data could not be decoded")
    return image, ALLOWED_FORMATS[fmt]
