"""Batched inference: a pool worker takes the frames that wait (up to its batch) into one model call, every frame
gets its own answer back, and a batched call answers what single calls do, on both backends (boxes within 1 px,
same classes), for frames of one size and of mixed sizes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

import cv2
import numpy as np
import pytest

from service.vision.classmap import DEFAULT_CLASSMAP, ClassMap
from service.vision.detector import UltralyticsDetector
from service.vision.onnx_backend import OnnxDetector
from service.vision.pool import InferencePool, detect_all
from service.vision.types import Detections
from tests.support import ScriptedDetector, detections
from tests.vision.test_onnx_backend import PHOTOS, assert_same, everything_map, photo


class RecordingDetector(ScriptedDetector):
    """A scripted detector that can batch: records the size of every call; the first call waits for the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def detect(self, image: np.ndarray) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        if not self.sizes:
            self.first_started.set()
            assert self.release.wait(10), "the test never released the first call"
        self.sizes.append(len(images))
        return [super(RecordingDetector, self).detect(image) for image in images]


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (16, 16, 3), dtype=np.uint8)


def submit_while_busy(pool: InferencePool, detector: RecordingDetector, images: list[np.ndarray]) -> list[Future]:
    """The first image holds the worker in its call while the others wait in the queue; then it is released."""
    first = pool.submit(images[0])
    assert detector.first_started.wait(10), "the worker never started the first frame"
    waiting = [pool.submit(picture) for picture in images[1:]]
    detector.release.set()
    return [first, *waiting]


def test_frames_that_wait_go_through_the_model_in_one_call_and_each_gets_its_own_answer() -> None:
    detector = RecordingDetector()
    images = [image(seed) for seed in range(6)]
    for seed, picture in enumerate(images):
        detector.register(picture, detections(("car", "vehicle", (seed, seed, seed + 5, seed + 5))))
    pool = InferencePool(lambda: detector, workers=1, capacity=8, batch=4)
    try:
        answers = [future.result(timeout=10)[0] for future in submit_while_busy(pool, detector, images)]
    finally:
        pool.close()
    assert detector.sizes == [1, 4, 1]  # the batch is capped at 4; the sixth frame went on its own
    assert [a.xyxy.tolist() for a in answers] == [[[s, s, s + 5, s + 5]] for s in range(6)]


def test_a_worker_waits_up_to_the_batch_wait_for_more_frames() -> None:
    detector = RecordingDetector()
    detector.release.set()
    detector.sizes.append(0)  # no first-call gate in this test
    pool = InferencePool(lambda: detector, workers=1, capacity=8, batch=3, batch_wait_s=5.0)
    try:
        futures = [pool.submit(image(seed)) for seed in range(3)]
        for future in futures:
            future.result(timeout=10)  # a full batch goes at once, long before the 5 s wait is over
    finally:
        pool.close()
    assert detector.sizes[1:] == [3]


def test_batch_one_keeps_one_frame_per_call() -> None:
    detector = RecordingDetector()
    pool = InferencePool(lambda: detector, workers=1, capacity=8)
    try:
        for future in submit_while_busy(pool, detector, [image(seed) for seed in range(4)]):
            future.result(timeout=10)
    finally:
        pool.close()
    assert detector.sizes == [1, 1, 1, 1]


def test_an_error_in_a_batched_call_reaches_every_frame_of_it() -> None:
    class Broken(RecordingDetector):
        def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
            super().detect_batch(images)
            raise RuntimeError("the model failed")

    detector = Broken()
    pool = InferencePool(lambda: detector, workers=1, capacity=8, batch=4)
    try:
        for future in submit_while_busy(pool, detector, [image(seed) for seed in range(4)]):
            with pytest.raises(RuntimeError, match="the model failed"):
                future.result(timeout=10)
    finally:
        pool.close()


def test_close_finishes_a_batch_that_was_waiting_for_the_stop_marker() -> None:
    detector = RecordingDetector()
    pool = InferencePool(lambda: detector, workers=1, capacity=8, batch=4, batch_wait_s=5.0)
    futures = [pool.submit(image(seed)) for seed in range(4)]  # a full first batch: no wait for more
    assert detector.first_started.wait(10), "the worker never started the first batch"
    futures += [pool.submit(image(seed)) for seed in range(4, 7)]  # the next batch waits for a fourth frame
    detector.release.set()
    started = time.monotonic()
    pool.close()  # its stop marker ends the batch being gathered; the frames before it are still done
    assert time.monotonic() - started < 4.0, "close waited out the batch wait instead of ending the batch"
    assert all(future.done() and not future.exception() for future in futures)
    assert detector.sizes == [4, 3]


def test_a_detector_without_batching_is_called_once_per_frame() -> None:
    detector = ScriptedDetector()
    found = detect_all(detector, [image(0), image(1), image(2)])
    assert len(found) == 3 and detector.calls == 3


def frames() -> list[np.ndarray]:
    """Three 1080p frames (one size: one tensor) and the packaged photos at their own sizes (mixed)."""
    bus = photo("bus")
    camera = [cv2.resize(bus, (1920, 1080)), cv2.resize(photo("zidane"), (1920, 1080)), cv2.flip(bus, 1)]
    camera[2] = cv2.resize(camera[2], (1920, 1080))
    return camera + [photo(name) for name in sorted(PHOTOS)]


@pytest.mark.model
@pytest.mark.parametrize("imgsz", [320, 480])
def test_batched_calls_answer_what_single_calls_do_on_both_backends(default_model_path: Path, imgsz: int) -> None:
    model = str(default_model_path)
    direct = OnnxDetector(model, ClassMap.load(DEFAULT_CLASSMAP), imgsz=imgsz, threads=1)
    class_map = everything_map(direct.class_names)  # every class at a low threshold: many boxes to compare
    pictures = frames()
    for detector in (
        OnnxDetector(model, class_map, imgsz=imgsz, threads=1),
        UltralyticsDetector(model, class_map, imgsz),
    ):
        single = [detector.detect(picture) for picture in pictures]
        batched = detector.detect_batch(pictures)
        assert len(batched) == len(pictures)
        assert sum(len(d) for d in single) >= len(pictures)  # real answers, not empty ones
        for i, (alone, together) in enumerate(zip(single, batched, strict=True)):
            assert_same(alone, together, f"{type(detector).__name__} frame {i} @{imgsz}")
