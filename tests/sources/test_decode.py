"""Keyframe-only vs full decoding on real H.264 clips (read from files: no server needed)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from service.sources.decode import SampledDecoder
from tests.sources.support.harness import make_clip


@pytest.fixture(scope="module")
def long_gop_clip(stream_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keyframe only every 5 s: too rare for a 2 s sample interval."""
    return make_clip(tmp_path_factory.mktemp("clip") / "gop5.mp4", fps=10, gop_s=5.0, seconds=10)


def run(path: Path, interval_s: float, policy: str) -> tuple[SampledDecoder, list[float], set[str]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoder = SampledDecoder(stream.codec_context, interval_s, policy)  # type: ignore[arg-type]
        times, modes = [], set()
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            for frame in decoder.push(packet, float(packet.pts * packet.time_base)):
                assert frame.to_ndarray(format="bgr24").shape == (240, 320, 3)
                times.append(round(float(frame.time), 2))
                modes.add(decoder.mode)
    return decoder, times, modes


def test_keyframe_only_decodes_one_frame_per_sample(clip: Path) -> None:
    decoder, times, modes = run(clip, 2.0, "keyframes")
    assert times == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert decoder.frames_decoded == len(times)  # 5 of 100 frames went through the codec
    assert modes == {"keyframes"} and decoder.decode_errors == 0
    assert decoder.keyframe_interval_s == pytest.approx(1.0)


def test_full_decode_samples_the_same_times_but_decodes_everything(clip: Path) -> None:
    decoder, times, modes = run(clip, 2.0, "all")
    assert times == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert decoder.frames_decoded == 100
    assert modes == {"all"}


def test_auto_uses_keyframes_when_they_are_frequent_enough(clip: Path) -> None:
    decoder, times, modes = run(clip, 2.0, "auto")
    assert modes == {"keyframes"} and decoder.frames_decoded == len(times) == 5


def test_auto_falls_back_to_full_decoding_when_keyframes_are_rare(long_gop_clip: Path) -> None:
    decoder, times, modes = run(long_gop_clip, 2.0, "auto")
    assert decoder.mode == "all" and modes == {"keyframes", "all"}
    # first keyframe at 0; keyframe mode gives up at 2.5 s, full decoding restarts at the next keyframe
    assert times == [0.0, 5.0, 7.0, 9.0]
    assert decoder.decode_errors == 0


def test_auto_stays_on_keyframes_when_the_interval_allows(long_gop_clip: Path) -> None:
    decoder, times, modes = run(long_gop_clip, 5.0, "auto")
    assert modes == {"keyframes"} and times == [0.0, 5.0] and decoder.frames_decoded == 2
