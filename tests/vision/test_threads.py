"""One place decides workers, threads and backend for the machine (service/vision/threads.py, runtime)."""

from __future__ import annotations

from pathlib import Path

import cv2

from service.config.settings import Settings
from service.runtime import default_detector_factory, thread_plan
from service.vision.detector import UltralyticsDetector
from service.vision.onnx_backend import OnnxDetector
from service.vision.threads import plan


def test_one_single_threaded_model_per_core_up_to_four_unless_configured() -> None:
    assert plan(available=2) == plan(None, None, 2)
    assert (plan(available=2).workers, plan(available=2).inference) == (2, 1)
    assert (plan(available=16).workers, plan(available=16).inference) == (4, 4)
    assert (plan(1, available=2).workers, plan(1, available=2).inference) == (1, 2)
    assert plan(3, 5, available=2).inference == 5  # what is configured wins
    assert plan(available=1).workers == 1


def test_the_plan_is_applied_and_onnx_models_run_through_onnx_runtime(default_model_path: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, models_dir=default_model_path.parent, inference_workers=1)
    assert thread_plan(settings).workers == 1 and cv2.getNumThreads() == 1
    direct = default_detector_factory(settings)()
    assert isinstance(direct, OnnxDetector)
    assert direct.session.get_session_options().intra_op_num_threads == thread_plan(settings).inference
    forced = default_detector_factory(settings.model_copy(update={"backend": "ultralytics"}))()
    assert isinstance(forced, UltralyticsDetector)
