"""Decoding at the size the model needs: a JPEG's DCT scaling straight to ½, ¼ or ⅛, never below the model's
input on its long side; everything else in full; refusals unchanged."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from service.vision.decoding import ImageRejectedError, decode, decode_full, draft_size

MAX_PIXELS = 40_000_000


def street(width: int, height: int) -> np.ndarray:
    """A smooth picture with edges (compresses like a photo, decodes alike at any scale)."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    image = np.concatenate(
        [
            np.broadcast_to(x, (height, width, 1)),
            np.broadcast_to(y, (height, width, 1)),
            np.full((height, width, 1), 90, np.float32),
        ],
        axis=2,
    ).astype(np.uint8)
    cv2.rectangle(image, (width // 3, height // 2), (width // 2, height - 10), (20, 20, 200), -1)
    return image


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


@pytest.mark.parametrize(
    ("size", "fit", "expected"),
    [
        ((3840, 2160), 480, (480, 270)),  # 4K: ⅛
        ((1920, 1080), 480, (480, 270)),  # 1080p: ¼
        ((1920, 1080), 320, (480, 270)),  # the model at 320: ⅛ would be 240 across, too small: ¼
        ((810, 1080), 480, (405, 540)),  # a photo: ½
    ],
)
def test_a_jpeg_decodes_straight_to_the_size_the_model_needs(size, fit, expected) -> None:
    data = jpeg(street(*size))
    decoded = decode(data, MAX_PIXELS, fit)
    assert decoded.size == size and decoded.media_type == "image/jpeg"
    height, width = decoded.image.shape[:2]
    assert (width, height) == expected
    assert max(width, height) >= fit  # the model never gets less than it asks for
    assert decoded.reduced == ((width, height) != size)
    full = decode_full(data)
    assert full.shape[:2] == (size[1], size[0])
    small = cv2.resize(full, (width, height), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - decoded.image.astype(int)).mean() < 4  # the same picture, smaller


def test_what_is_not_worth_reducing_or_cannot_be_is_decoded_in_full() -> None:
    assert draft_size(800, 600, 480) is None  # ½ would be 400 < 480
    assert draft_size(3840, 2160, 480) == (480, 270)
    buffer = io.BytesIO()
    Image.fromarray(street(1920, 1080)[:, :, ::-1]).save(buffer, format="PNG")
    png = decode(buffer.getvalue(), MAX_PIXELS, 480)
    assert png.image.shape == (1080, 1920, 3) and not png.reduced  # PNG has no DCT scaling
    assert decode(jpeg(street(1920, 1080)), MAX_PIXELS).image.shape == (1080, 1920, 3)  # no fit: in full


def test_a_truncated_4k_jpeg_is_still_refused_when_decoded_small() -> None:
    data = jpeg(street(3840, 2160))
    with pytest.raises(ImageRejectedError) as refused:
        decode(data[: len(data) // 2], MAX_PIXELS, 480)
    assert refused.value.reason == "truncated"
    with pytest.raises(ImageRejectedError) as bomb:
        decode(data, 3840 * 2160 - 1, 480)
    assert bomb.value.reason == "too_many_pixels"  # checked on the picture's own size, before any decoding
