"""What a restart must keep of a static-object model, lossless; and what a change of zones keeps of it.

Why apart from the model: the model's logic (`detector.py`) reads one frame at a time; this is the bookkeeping
around it: arrays out and in, and the move of a saved state onto another work window (zones edited: what both
windows share is kept, the pixels the new one brings in are learned from the next frame).
"""

from __future__ import annotations

import io

import numpy as np

from service.scene.measures import Window, shift_window


class PersistedModel:
    """Mixin of `StaticObjectDetector`: its state as arrays and bytes, and restoring it."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """The model as plain arrays, lossless (np.savez-able, ~1.4 MB compressed at the default work width)."""
        if self.reference is None:
            return {}
        state = {
            "frame_size": np.asarray(self._frame_size),
            "window": np.asarray(self.window),
            "reference": self.reference,
            "previous": self.previous,
            "last": self.last,
            "counter": self.counter,
            "carried": self.carried,
            "foreground": self.foreground,
            "since": self.since,
            "look": self.look,
            "disturbed": self.disturbed,
            "index": np.asarray(self.index),
            "stabiliser": np.asarray(self._c, np.float64),
            "rebases": np.asarray(self.rebases),
            "ghosts": np.asarray(self.ghosts),
            "snapshot_index": np.asarray([i for i, _ in self.snapshots], np.int64),
            "snapshots": np.asarray([g for _, g in self.snapshots], np.float16).reshape(-1, *self.reference.shape),
            "bootstrap": np.asarray(self.bootstrap, np.float32).reshape(-1, *self.reference.shape),
        }
        if self._stable is not None:
            state["stable"] = self._stable
        if self.unseen is not None:
            state["unseen"] = self.unseen
        return {name: np.array(value, copy=True) for name, value in state.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore `state_dict()`; a state saved at another work size is ignored (the model starts over). One
        saved with other zones (another window) keeps what both windows share; the rest is learned from the
        next frame, as the scene around a zone always was."""
        self.reset()
        if "reference" not in state:
            return
        self._setup(tuple(int(v) for v in state["frame_size"]))
        width, height = self._full
        saved = tuple(int(v) for v in state["window"]) if "window" in state else (0, 0, width, height)
        x0, y0, x1, y1 = saved  # a state from before the window covers the whole picture
        if x1 > width or y1 > height or tuple(state["reference"].shape) != (y1 - y0, x1 - x0):
            return  # saved with other settings: start over
        if saved != self.window:
            state = self._moved_state(state, saved)
        for name in ("reference", "previous", "last", "look"):
            setattr(self, name, np.asarray(state[name], np.float32))
        self.counter = np.asarray(state["counter"], np.uint16)
        self.carried, self.foreground = np.asarray(state["carried"], bool), np.asarray(state["foreground"], bool)
        self.disturbed = np.asarray(state["disturbed"], bool)
        self.since = np.asarray(state["since"], np.int32)
        self.index = int(state["index"])
        self._c = float(state["stabiliser"]) if "stabiliser" in state else self._c
        self.rebases, self.ghosts = int(state.get("rebases", 0)), int(state.get("ghosts", 0))
        self._stable = np.asarray(state["stable"], bool) if "stable" in state else None
        self.unseen = np.asarray(state["unseen"], bool) if "unseen" in state else None
        self.snapshots = [
            (int(i), np.asarray(g, np.float16))
            for i, g in zip(state["snapshot_index"], state["snapshots"], strict=True)
        ]
        self.bootstrap = [np.asarray(g, np.float32) for g in state["bootstrap"]]

    def _moved_state(self, state: dict[str, np.ndarray], saved: Window) -> dict[str, np.ndarray]:
        """`state` (saved over window `saved`) over this model's window: shared pixels kept, the others unseen."""
        moved = {name: value for name, value in state.items() if value.ndim < 2}  # sizes, counts, the index
        for name, value in state.items():
            if name not in moved and name != "unseen":
                moved[name] = shift_window(value, saved, self.window)
        seen = shift_window(np.ones(state["reference"].shape, bool), saved, self.window)
        if "unseen" in state:
            seen &= ~shift_window(state["unseen"], saved, self.window, fill=True)
        if not seen.all():
            moved["unseen"] = ~seen
        return moved

    def to_bytes(self) -> bytes:
        """Compressed state (np.savez_compressed of `state_dict`), stored per camera so a restart resumes."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.state_dict())
        return buffer.getvalue()

    def load_bytes(self, data: bytes) -> None:
        with np.load(io.BytesIO(data)) as arrays:
            self.load_state_dict({name: arrays[name] for name in arrays.files})

    def _learn_unseen(self, grey: np.ndarray) -> None:
        """Pixels a widened window brought in have no history: they start as this frame's look, empty."""
        unseen, self.unseen = self.unseen, None
        for image in (self.reference, self.previous, self.last, self.look, *self.bootstrap):
            image[unseen] = grey[unseen]
        for _, snapshot in self.snapshots:
            snapshot[unseen] = grey[unseen]
        for marks in (self.counter, self.since, self.carried, self.foreground, self.disturbed):
            marks[unseen] = 0
        if self._stable is not None:
            self._stable[unseen] = True
