"""Turn a camera's packets into one sampled picture every few seconds, decoding as little as possible.

Decoding, not networking, is what limits cameras per core: at one sample every 5 s a 15 fps stream
decodes 75 frames per sample when every frame goes through the codec. A keyframe (IDR) decodes on
its own, so when the camera's keyframe interval is no longer than the sample interval, only the
keyframe nearest each due time is sent to the codec and every other packet is dropped unread
("keyframes" mode, with the codec also told to skip non-key frames). When keyframes are too rare
for the interval, every frame is decoded and the due one converted ("all" mode). "auto" measures
the keyframe interval from the stream and switches between the two.
"""

from __future__ import annotations

import contextlib
from typing import Literal

import av
import av.error

DecodePolicy = Literal["auto", "keyframes", "all"]
DecodeMode = Literal["keyframes", "all"]

AUTO_TO_ALL = 1.25
"""auto: leave keyframe mode when a keyframe is this many sample intervals late."""
AUTO_TO_KEYFRAMES = 1.0
"""auto: return to keyframe mode when the measured keyframe interval fits the sample interval."""


class SampleSchedule:
    """When the next sample is due, in stream seconds. Due times advance by the interval from the
    previous due time (not from when the sample was taken) so keyframe jitter does not add up."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.next_due: float | None = None

    def is_due(self, t: float, slack: float = 0.0) -> bool:
        return self.next_due is None or t >= self.next_due - slack

    def taken(self, t: float) -> None:
        if self.next_due is None or t - self.next_due > self.interval_s or t < self.next_due - self.interval_s:
            self.next_due = t + self.interval_s  # first sample, a long gap, or the stream clock jumped
        else:
            self.next_due += self.interval_s

    def reset(self) -> None:
        self.next_due = None


class SampledDecoder:
    """Feeds one stream's packets to its codec according to the decode policy.

    `push(packet, t)` returns the sampled frames (zero or one) for the packet whose stream time is
    `t` seconds. Counters are cumulative for this decoder: frames_decoded, decode_errors, and
    consecutive_errors (the reader reconnects when that grows: the stream is garbage).
    """

    def __init__(self, codec: av.VideoCodecContext, interval_s: float, policy: DecodePolicy = "auto") -> None:
        self.codec = codec
        self.policy = policy
        self.schedule = SampleSchedule(interval_s)
        # One thread per decoder: cameras already run in parallel, and per-codec thread pools
        # would start hundreds of idle threads (and frame threading delays keyframe output).
        codec.thread_count = 1
        self.mode: DecodeMode = "all" if policy == "all" else "keyframes"
        self._apply_mode()
        self.keyframe_interval_s: float | None = None
        self._last_key_t: float | None = None
        self._synced = False  # the codec has (or, in keyframe mode, needs) nothing before a keyframe
        self.frames_decoded = 0
        self.decode_errors = 0
        self.consecutive_errors = 0

    @property
    def interval_s(self) -> float:
        return self.schedule.interval_s

    def _apply_mode(self) -> None:
        self.codec.skip_frame = "NONKEY" if self.mode == "keyframes" else "DEFAULT"

    def _switch(self, mode: DecodeMode) -> None:
        if mode != self.mode:
            self.mode = mode
            self.codec.flush_buffers()
            self._apply_mode()
            self._synced = False  # full decoding has to start at the next keyframe

    def _auto(self, t: float, keyframe: bool) -> None:
        if self.policy != "auto":
            return
        if self.mode == "keyframes" and self._last_key_t is not None and not keyframe:
            if t - self._last_key_t > AUTO_TO_ALL * self.interval_s:
                self._switch("all")
        elif (
            self.mode == "all"
            and keyframe
            and self.keyframe_interval_s is not None
            and self.keyframe_interval_s <= AUTO_TO_KEYFRAMES * self.interval_s
        ):
            self._switch("keyframes")

    def push(self, packet: av.Packet, t: float) -> list[av.VideoFrame]:
        keyframe = bool(packet.is_keyframe)
        if keyframe:
            if self._last_key_t is not None and t > self._last_key_t:
                self.keyframe_interval_s = t - self._last_key_t
            self._last_key_t = t
        self._auto(t, keyframe)
        if keyframe:
            self._synced = True
        if not self._synced:
            return []  # P-frames before the first keyframe only produce "missing reference" errors
        if self.mode == "keyframes":
            return self._push_keyframe(packet, t) if keyframe else []
        return self._push_all(packet, t)

    def _push_keyframe(self, packet: av.Packet, t: float) -> list[av.VideoFrame]:
        slack = min(self.keyframe_interval_s or 0.0, self.interval_s) / 2
        if not self.schedule.is_due(t, slack):
            return []
        # A lone keyframe: drain it out now (a codec with reorder delay would otherwise hold it until
        # the next keyframe) and start the next one from a clean state.
        frames = self._decode(packet) + self._drain()
        if not frames:
            return []
        self.schedule.taken(t)
        return frames[-1:]

    def _push_all(self, packet: av.Packet, t: float) -> list[av.VideoFrame]:
        frames = self._decode(packet)
        for frame in frames:
            ft = float(frame.time) if frame.time is not None else t
            if self.schedule.is_due(ft):
                self.schedule.taken(ft)
                return [frame]
        return []

    def _decode(self, packet: av.Packet) -> list[av.VideoFrame]:
        try:
            frames = list(self.codec.decode(packet))
        except av.error.FFmpegError:
            self.decode_errors += 1
            self.consecutive_errors += 1
            if self.mode == "all":
                self.codec.flush_buffers()
                self._synced = False  # references are broken: resume at the next keyframe
            return []
        self.consecutive_errors = 0
        self.frames_decoded += len(frames)
        return frames  # type: ignore[return-value]

    def _drain(self) -> list[av.VideoFrame]:
        frames: list[av.VideoFrame] = []
        with contextlib.suppress(av.error.FFmpegError):
            frames = list(self.codec.decode(None))  # type: ignore[arg-type]
        self.codec.flush_buffers()
        self.frames_decoded += len(frames)
        return frames
