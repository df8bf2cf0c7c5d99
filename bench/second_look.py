"""False alarms removed and hazards lost by the second look, with the real default model, on the project's
evaluation sequences (datasets/static_sequences.py: real photos composed into CCTV sequences with truth).

    .venv/bin/python bench/second_look.py                 # every case, minimums 0.3 0.4 0.5
    .venv/bin/python bench/second_look.py --smoke         # two cases (CI)

Each case runs through the model and the dwell engine (the lane of the sequences, a dwell of three samples) as
the service runs it. Every hazard the engine opens is a true positive when its box overlaps a ground-truth
object of that frame (IoU >= 0.3), else a false alarm. Then the second look (service/vision/second_look.py) scores
each opening; a minimum holds those below it as "suspected". Precision is over opened hazards, recall over the
truth objects that stood in the lane long enough (the model only knows COCO classes: boxes and bricks are the
unknown-object watch's work, not its, so its recall here is low by construction; what matters is the change).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasets.static_sequences import INTERVAL_S, ZONE, Case, build, build_all
from service.config.settings import Settings
from service.config.site import Camera, Zone
from service.hazards.engine import CameraState, HazardEngine
from service.vision.classmap import ClassMap
from service.vision.detector import UltralyticsDetector, resolve_model
from service.vision.geometry import iou_matrix
from service.vision.second_look import second_look

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
IOU = 0.3
SMOKE_CASES = ("motorcycle_parked", "quiet_passers_by")


@dataclass
class Opening:
    case: str
    true: bool
    truth_id: str | None
    score: float | None


def run_case(case: Case, detector) -> tuple[list[Opening], set[str]]:
    zone = Zone(id="lane", type="fire_lane", polygon=ZONE, dwell_seconds=3 * INTERVAL_S, categories=None)
    camera = Camera(id="cam", compound="c", zones=[zone])
    engine, state = HazardEngine(camera), CameraState()
    openings: list[Opening] = []
    for n, frame in enumerate(case.frames):
        at = case.times[n] if case.times else T0 + timedelta(seconds=n * INTERVAL_S)
        found = detector.detect(frame)
        obs = engine.observe(state, at, found, f"{case.name}-{n}", frame.shape[1], frame.shape[0])
        for change in (c for c in obs.changes if c.kind == "opened"):
            truth = case.truth[n]
            ids = list(truth)
            overlap = (
                iou_matrix(np.asarray([truth[i] for i in ids], float), np.asarray([change.box], float))[:, 0]
                if ids
                else np.zeros(0)
            )
            best = int(np.argmax(overlap)) if len(overlap) else -1
            hit = best >= 0 and overlap[best] >= IOU
            looked = second_look(frame, change.box, change.category, change.class_name, detector.detect)
            openings.append(Opening(case.name, hit, ids[best] if hit else None, looked.score))
    standing = {i for n, truth in enumerate(case.truth) for i in truth if _frames_present(case, i) >= 3}
    return openings, standing


def _frames_present(case: Case, object_id: str) -> int:
    return sum(1 for truth in case.truth if object_id in truth)


def table(openings: list[Opening], standing: int, minimums: list[float]) -> list[str]:
    rows = [
        "| second look minimum | hazards | true | false alarms | precision | recall | removed | lost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for minimum in [0.0, *minimums]:
        kept = [o for o in openings if o.score is None or o.score >= minimum or minimum == 0]
        true = [o for o in kept if o.true]
        found = {(o.case, o.truth_id) for o in true}
        false = len(kept) - len(true)
        removed = sum(1 for o in openings if not o.true) - false
        lost = sum(1 for o in openings if o.true) - len(true)
        precision = len(true) / len(kept) if kept else 1.0
        recall = len(found) / standing if standing else 0.0
        label = "none (before)" if minimum == 0 else f"{minimum:.2f}"
        rows.append(
            f"| {label} | {len(kept)} | {len(true)} | {false} | {precision:.2f} | {recall:.2f} | {removed} | {lost} |"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--minimums", type=float, nargs="*", default=[0.3, 0.4, 0.5])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threshold", type=float, help="the model's confidence threshold for every category (default: the class map's)"
    )
    args = parser.parse_args()
    cases = [build(name, seed=args.seed) for name in SMOKE_CASES] if args.smoke else build_all(seed=args.seed)
    settings = Settings()
    class_map = ClassMap.load()
    if args.threshold is not None:
        class_map = replace(class_map, thresholds={c: args.threshold for c in class_map.thresholds})
    model = resolve_model(settings.model, settings.models_dir)
    detector = UltralyticsDetector(model, class_map, imgsz=settings.imgsz, device=settings.device)
    print(f"model thresholds: {class_map.thresholds}")
    started = time.perf_counter()
    openings: list[Opening] = []
    standing = 0
    for case in cases:
        found, objects = run_case(case, detector)
        openings += found
        standing += len(objects)
        scores = ", ".join("-" if o.score is None else f"{o.score:.2f}{'' if o.true else ' (false)'}" for o in found)
        print(
            f"{case.name:<24} {len(case.frames):>3} frames, {len(objects)} standing objects, openings: {scores or '-'}"
        )
    print(f"\n{len(cases)} cases in {time.perf_counter() - started:.0f} s (imgsz {Settings().imgsz})\n")
    print("\n".join(table(openings, standing, args.minimums)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
