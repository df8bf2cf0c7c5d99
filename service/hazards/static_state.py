"""Persistence of a static-object model: its arrays, lossless, and their compressed bytes.

Why separate: what a restart must keep (reference, counters, snapshots, start-up samples...) changes with the
model's design, but is not part of how it sees; keeping it here keeps static_objects.py about detection.
Reads and writes the detector's fields directly: this module is the detector's own storage code.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from service.hazards.static_objects import StaticObjectDetector


def arrays_of(detector: StaticObjectDetector) -> dict[str, np.ndarray]:
    """The model as plain arrays, lossless (np.savez-able, ~1.4 MB compressed at the default work width)."""
    if detector.reference is None:
        return {}
    state = {
        "frame_size": np.asarray(detector._frame_size),
        "reference": detector.reference,
        "previous": detector.previous,
        "last": detector.last,
        "counter": detector.counter,
        "carried": detector.carried,
        "foreground": detector.foreground,
        "since": detector.since,
        "look": detector.look,
        "disturbed": detector.disturbed,
        "index": np.asarray(detector.index),
        "stabiliser": np.asarray(detector._c, np.float64),
        "rebases": np.asarray(detector.rebases),
        "ghosts": np.asarray(detector.ghosts),
        "snapshot_index": np.asarray([i for i, _ in detector.snapshots], np.int64),
        "snapshots": np.asarray([g for _, g in detector.snapshots], np.float16).reshape(-1, *detector.reference.shape),
        "bootstrap": np.asarray(detector.bootstrap, np.float32).reshape(-1, *detector.reference.shape),
    }
    if detector._stable is not None:
        state["stable"] = detector._stable
    return {name: np.array(value, copy=True) for name, value in state.items()}


def restore(detector: StaticObjectDetector, state: dict[str, np.ndarray]) -> None:
    """Restore `arrays_of()`; a state saved at another work size is ignored (the model starts over)."""
    detector.reset()
    if "reference" not in state:
        return
    detector._setup(tuple(int(v) for v in state["frame_size"]))
    if tuple(state["reference"].shape) != (detector._work[1], detector._work[0]):
        return  # saved with other settings: start over
    for name in ("reference", "previous", "last"):
        setattr(detector, name, np.asarray(state[name], np.float32))
    detector.counter = np.asarray(state["counter"], np.uint16)
    detector.carried = np.asarray(state["carried"], bool)
    detector.foreground = np.asarray(state["foreground"], bool)
    detector.since = np.asarray(state["since"], np.int32)
    detector.look = np.asarray(state["look"], np.float32)
    detector.disturbed = np.asarray(state["disturbed"], bool)
    detector.index = int(state["index"])
    detector._c = float(state["stabiliser"]) if "stabiliser" in state else detector._c
    detector.rebases = int(state.get("rebases", 0))
    detector.ghosts = int(state.get("ghosts", 0))
    detector._stable = np.asarray(state["stable"], bool) if "stable" in state else None
    detector.snapshots = [
        (int(i), np.asarray(g, np.float16)) for i, g in zip(state["snapshot_index"], state["snapshots"], strict=True)
    ]
    detector.bootstrap = [np.asarray(g, np.float32) for g in state["bootstrap"]]


def to_bytes(detector: StaticObjectDetector) -> bytes:
    """Compressed state (np.savez_compressed of `arrays_of`)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays_of(detector))
    return buffer.getvalue()


def load_bytes(detector: StaticObjectDetector, data: bytes) -> None:
    """Restore from `to_bytes` output."""
    with np.load(io.BytesIO(data)) as arrays:
        restore(detector, {name: arrays[name] for name in arrays.files})
