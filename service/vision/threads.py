"""How many threads each part may use, decided in one place for the machine.

Why: left alone, ONNX Runtime, PyTorch and OpenCV each start one thread per core, for every inference worker and
every request thread, and on two cores they fight (measured: inference at imgsz 320 took 43 ms per frame inside
the service against 28 ms alone). The plan gives each inference worker a share of the cores for its model, keeps
OpenCV single-threaded (requests already run side by side) and turns off ONNX Runtime's spin-waiting, which burns
a core while it waits for work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2

MAX_AUTO_WORKERS = 4


@dataclass(frozen=True)
class ThreadPlan:
    workers: int  # inference workers, each with its own model
    inference: int  # intra-op threads of each inference worker's model
    opencv: int  # OpenCV's own pool (resizes, colour conversions, the unknown-object model)

    def apply(self) -> None:
        """Set what is process-wide now; each detector takes `inference` when it is built."""
        cv2.setNumThreads(self.opencv)


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover  (not Linux)
        return max(1, os.cpu_count() or 1)


def plan(workers: int | None = None, threads: int | None = None, available: int | None = None) -> ThreadPlan:
    """What is configured (CLEARWAY_INFERENCE_WORKERS, CLEARWAY_INFERENCE_THREADS) wins. Otherwise one worker per
    core, up to 4, each with a single-threaded model, then the cores left shared out among them. One thread per
    model on its own core does more frames per CPU second than one model on two threads (measured in
    bench/pipeline_bench.py: at imgsz 480 on 1080p, 86 against 95 ms of CPU per frame), and two frames of
    different cameras are in the model at once."""
    total = available or cores()
    count = workers or min(total, MAX_AUTO_WORKERS)
    return ThreadPlan(workers=count, inference=threads or max(1, total // count), opencv=1)
