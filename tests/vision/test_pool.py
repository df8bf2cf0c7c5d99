"""The inference pool: results through futures with timing, refusal when full, readiness and load errors, close."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from service.vision.pool import InferencePool, QueueFullError
from service.vision.types import Detections
from tests.support import ScriptedDetector, detections

IMAGE = np.zeros((8, 8, 3), np.uint8)


class BlockingDetector:
    """Holds each `detect` until the test opens the gate; says when a call has started."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()

    def detect(self, image: np.ndarray) -> Detections:
        self.started.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return Detections.empty()


def test_result_comes_back_through_the_future_with_its_inference_time() -> None:
    detector = ScriptedDetector()
    detector.register(IMAGE, detections(("car", "vehicle", (1, 1, 5, 5))))
    pool = InferencePool(lambda: detector)
    try:
        found, milliseconds = pool.submit(IMAGE).result(timeout=10)
    finally:
        pool.close()
    assert list(found.class_name) == ["car"] and found.xyxy.tolist() == [[1, 1, 5, 5]]
    assert milliseconds >= 0.0 and detector.calls == 1


def test_a_detector_error_reaches_the_caller_through_the_future() -> None:
    class Broken:
        def detect(self, image: np.ndarray) -> Detections:
            raise RuntimeError("bad frame")

    pool = InferencePool(Broken)
    try:
        with pytest.raises(RuntimeError, match="bad frame"):
            pool.submit(IMAGE).result(timeout=10)
    finally:
        pool.close()


def test_frames_beyond_capacity_are_refused_until_the_worker_catches_up() -> None:
    detector = BlockingDetector()
    pool = InferencePool(lambda: detector, workers=1, capacity=2)
    try:
        running = pool.submit(IMAGE)
        assert detector.started.wait(10)  # the worker holds this one: the queue itself is empty again
        queued = [pool.submit(IMAGE), pool.submit(IMAGE)]
        assert pool.depth == 2
        with pytest.raises(QueueFullError):
            pool.submit(IMAGE)
        detector.gate.set()
        for future in [running, *queued]:
            assert len(future.result(timeout=10)[0]) == 0
        pool.submit(IMAGE).result(timeout=10)  # room again
    finally:
        detector.gate.set()
        pool.close()


def test_wait_ready_is_true_once_the_model_is_loaded_and_false_while_it_loads() -> None:
    loaded = threading.Event()

    def slow_factory() -> ScriptedDetector:
        assert loaded.wait(10)
        return ScriptedDetector()

    pool = InferencePool(slow_factory)
    try:
        assert pool.wait_ready(timeout=0.05) is False
        loaded.set()
        assert pool.wait_ready(timeout=10) is True
    finally:
        loaded.set()
        pool.close()


def test_a_failed_load_is_raised_by_wait_ready_and_submit() -> None:
    def failing_factory() -> ScriptedDetector:
        raise FileNotFoundError("no model")

    pool = InferencePool(failing_factory)
    try:
        with pytest.raises(FileNotFoundError, match="no model"):
            pool.wait_ready(timeout=10)
        with pytest.raises(FileNotFoundError, match="no model"):
            pool.submit(IMAGE)
    finally:
        pool.close()


def test_close_stops_every_worker() -> None:
    before = set(threading.enumerate())
    pool = InferencePool(ScriptedDetector, workers=3)
    assert pool.wait_ready(timeout=10)
    workers = [t for t in threading.enumerate() if t not in before and t.name.startswith("inference-")]
    assert len(workers) == 3
    pool.close()
    assert not any(t.is_alive() for t in workers)


def test_close_returns_after_a_failed_load_with_more_workers_than_queue_slots() -> None:
    def failing_factory() -> ScriptedDetector:
        raise FileNotFoundError("no model")

    pool = InferencePool(failing_factory, workers=2, capacity=1)
    with pytest.raises(FileNotFoundError):
        pool.wait_ready(timeout=10)
    closer = threading.Thread(target=pool.close, name="test-pool-close", daemon=True)
    closer.start()
    closer.join(timeout=2)
    assert not closer.is_alive(), "close() is still blocked"
