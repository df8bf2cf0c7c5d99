"""Pipeline benchmark: the service's frames/s through HTTP, with every stage it runs, against the bare loop a
user would write (decode + `YOLO.predict`) on the same frames, same model, same run (issue 16).

    .venv/bin/python bench/pipeline_bench.py                    # photo, 1080p, 4K at imgsz 320 and 480 (minutes)
    .venv/bin/python bench/pipeline_bench.py --markdown         # the same table in Markdown (README)
    .venv/bin/python bench/pipeline_bench.py --scenes 4k --imgsz 480 --frames 60
    .venv/bin/python bench/pipeline_bench.py --smoke            # photo, imgsz 320, 6 frames: proves it runs (CI)

Scenes (bench/scenes.py): a bus standing in a fire lane, as the photo and as 1080p and 4K JPEGs. The timed
frames are dealt to --cameras cameras that all push at once, each its share in capture order, 5 s apart (as a
camera sends them: never two of its own frames at once), so the dwell (60 s) passes on every camera, a hazard
opens with its evidence and is updated afterwards, as for a real parked car. A county's load is many cameras
at once; one camera's frames are applied one at a time under its lock, so one camera pushing from several
clients measures that lock, not the service. Each row starts `clearway serve` as its own process (fresh data
folder, the row's imgsz), as it runs in production: decode, model, unknown-object model, zones and dwell,
database, evidence all count, and so does the HTTP server. Any CLEARWAY_* variable set here reaches the
service (to compare settings), except the data folder, site file and imgsz the bench sets per row. The
frames go through the two loops in three alternating parts (bare, service, bare, ...), so that a shared
machine's speed drifting during a row falls on both alike; the figures are over all three parts.

Columns: fps (frames/s, wall clock; the service's with all cameras pushing), ratio = service / bare, stage
medians in ms as the service reports them (`timings_ms`; database includes zones_dwell and evidence, which
run in its transaction; evidence max is the frame that opened a hazard), CPU ms per frame (the server
process's user+system time over the timed frames, the bench process's for the bare loop), cameras per core
at one frame per 5 s (5000 / service CPU ms per frame), and hazards opened (one per bus in the lane per camera
once the dwell passed: the wide scenes show two or three buses). Wall fps: the service overlaps the cameras'
frames (one decoding while another is in the model), the bare loop runs one at a time with every core in the
model; CPU per frame compares the work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import httpx
import numpy as np
import psutil
import yaml

from bench import scenes

REPO = Path(__file__).resolve().parents[1]

STAGES = ("decode", "inference", "static_objects", "zones_dwell", "database", "evidence")
FRAME_EVERY_S = 5.0
READY_TIMEOUT_S = 120.0


@dataclass
class Loop:
    fps: float
    cpu_ms: float


@dataclass
class Service(Loop):
    stages: dict[str, list[float]]
    opened: int


PASSES = 3  # bare and service passes alternate (measure)


class BareLoop:
    """decode + YOLO.predict in this process: the floor a user would measure, nothing after the model."""

    def __init__(self, model_path: str, imgsz: int, warm_up: list[bytes]) -> None:
        from ultralytics import YOLO

        self.model, self.imgsz = YOLO(model_path, task="detect"), imgsz
        for data in warm_up:  # session start, first-call allocations
            self.predict(data)

    def predict(self, data: bytes) -> None:
        self.model.predict(
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), imgsz=self.imgsz, verbose=False
        )

    def run(self, frames: list[bytes]) -> tuple[float, float]:
        """One pass: (wall seconds, CPU seconds of this process)."""
        cpu, started = time.process_time(), time.perf_counter()
        for data in frames:
            self.predict(data)
        return time.perf_counter() - started, time.process_time() - cpu


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clearway() -> list[str]:
    """The installed `clearway` command next to this interpreter, else the module (same code either way)."""
    script = Path(sys.executable).parent / "clearway"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "service.cli"]


def service_env(data_dir: Path, site_file: Path, imgsz: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the row's own SQLite, not a shared one
    env.setdefault("CLEARWAY_MODELS_DIR", str(REPO / "models"))
    env.update(CLEARWAY_DATA_DIR=str(data_dir), CLEARWAY_SITE_FILE=str(site_file), CLEARWAY_IMGSZ=str(imgsz))
    return env


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_ready(base: str, process: subprocess.Popen, log: Path, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Until `clearway serve`'s /readyz answers 200 (database, model, broker), bounded; its log if it dies."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clearway serve exited ({process.returncode}):\n{tail(log)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"clearway serve not ready after {timeout_s:.0f} s:\n{tail(log)}")


class Server:
    """`clearway serve` as a subprocess on a free port, its stderr in a file (printed when it fails)."""

    def __init__(self, imgsz: int, cameras: list[str], row_dir: Path) -> None:
        site_file = row_dir / "site.yaml"
        site_file.write_text(yaml.safe_dump(scenes.site(len(cameras))))
        self.env = service_env(row_dir / "data", site_file, imgsz)
        self.log = row_dir / "server.log"
        self.key = self._create_key(cameras)
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        command = [*clearway(), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.cpu = psutil.Process(self.process.pid)
        self._wait_ready()

    def _create_key(self, cameras: list[str]) -> str:
        """A gateway key for the bench cameras, made by the CLI in the database the server will open."""
        command = [*clearway(), "keys", "create", "--name", "bench", "--role", "gateway"]
        command += [arg for camera in cameras for arg in ("--camera", camera)]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"`clearway keys create` failed:\n{done.stderr}")
        return done.stdout.strip().splitlines()[-1]

    def _wait_ready(self) -> None:
        try:
            wait_ready(self.base, self.process, self.log)
        except RuntimeError:
            self.stop()
            raise

    def cpu_s(self) -> float:
        times = self.cpu.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        """SIGINT (uvicorn's clean shutdown), then terminate, then kill, each with a bounded wait."""
        for action in (lambda: self.process.send_signal(signal.SIGINT), self.process.terminate, self.process.kill):
            if self.process.poll() is not None:
                return
            action()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                continue


def measure(model: str, frames: list[bytes], imgsz: int, cameras: int, row_dir: Path) -> tuple[Loop, Service]:
    """Frame 0 warms both loops up; frames 1.. are dealt to `cameras` cameras, each pushing its share in capture
    order (5 s apart) as a camera does, all cameras at once: a county's load, not one camera's. The shares are
    cut into PASSES parts; each part goes through the bare loop, then through the service, so a drift of the
    machine's speed falls on both loops alike. fps and CPU per frame are over all passes."""
    ids = scenes.camera_ids(cameras)
    bare = BareLoop(model, imgsz, frames[:2])
    server = Server(imgsz, ids, row_dir)
    t0 = datetime.now(UTC) - timedelta(seconds=FRAME_EVERY_S * len(frames) + 600)  # all in the past
    shares = [list(enumerate(frames[1 + index :: cameras], start=1)) for index in range(cameras)]
    bare_s = bare_cpu = service_s = service_cpu = 0.0
    results: list[dict] = []
    try:
        with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {server.key}"}, timeout=120) as c:

            def push(camera: str, data: bytes, step: int) -> dict:
                response = c.post(
                    f"/api/v1/cameras/{camera}/frames",
                    content=data,
                    headers={"Content-Type": "image/jpeg"},
                    params={"captured_at": (t0 + timedelta(seconds=FRAME_EVERY_S * step)).isoformat()},
                )
                if response.status_code != 201:
                    raise RuntimeError(f"{camera} frame {step}: {response.status_code} {response.text[:300]}")
                return response.json()

            def camera_run(camera: str, steps: list[tuple[int, bytes]]) -> list[dict]:
                return [push(camera, data, step) for step, data in steps]

            first = push(ids[0], frames[0], 0)
            with ThreadPoolExecutor(cameras) as pool:
                for part in range(PASSES):
                    parts = [share[part * len(share) // PASSES : (part + 1) * len(share) // PASSES] for share in shares]
                    wall, cpu = bare.run([data for steps in parts for _, data in steps])
                    bare_s, bare_cpu = bare_s + wall, bare_cpu + cpu
                    cpu, started = server.cpu_s(), time.perf_counter()
                    results += [r for done in pool.map(camera_run, ids, parts) for r in done]
                    service_s += time.perf_counter() - started
                    service_cpu += server.cpu_s() - cpu
    except Exception:
        print(tail(server.log), file=sys.stderr)
        raise
    finally:
        server.stop()
    n = len(results)
    stages = {s: [r["timings_ms"].get(s, 0.0) for r in results] for s in STAGES}
    opened = sum(h["change"] == "opened" for r in (first, *results) for h in r["hazards"])
    return Loop(n / bare_s, bare_cpu * 1000 / n), Service(n / service_s, service_cpu * 1000 / n, stages, opened)


def row(name: str, frames: list[bytes], imgsz: int, bare: Loop, service: Service) -> list[str]:
    """One table row; every figure from this run, nothing that names the machine."""
    height, width = cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR).shape[:2]
    medians = [f"{statistics.median(service.stages[s]):.1f}" for s in STAGES]
    return [
        name,
        f"{width}x{height}",
        str(imgsz),
        f"{bare.fps:.1f}",
        f"{service.fps:.1f}",
        f"{service.fps / bare.fps:.2f}",
        *medians,
        f"{max(service.stages['evidence']):.1f}",
        f"{service.cpu_ms:.0f}",
        f"{bare.cpu_ms:.0f}",
        f"{FRAME_EVERY_S * 1000 / service.cpu_ms:.0f}",
        str(service.opened),
    ]


HEADERS = [
    "scene",
    "WxH",
    "imgsz",
    "bare fps",
    "service fps",
    "ratio",
    *(f"{s} ms" for s in STAGES),
    "evidence max ms",
    "service CPU ms/frame",
    "bare CPU ms/frame",
    "cameras/core @1 per 5 s",
    "hazards opened",
]


def print_table(rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(HEADERS) + " |")
        print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(HEADERS))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    print(" | ".join(h.rjust(w) for h, w in zip(HEADERS, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))


def csv_of(text: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    items = [item.strip().lower() for item in text.split(",") if item.strip()]
    if allowed is not None and (unknown := [i for i in items if i not in allowed]):
        raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {','.join(allowed)}")
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=160, help="timed frames per scene, all cameras (plus a warm-up)")
    parser.add_argument("--cameras", type=int, default=4, help="cameras pushing at once, each its frames in order")
    parser.add_argument("--scenes", type=lambda t: csv_of(t, tuple(scenes.SIZES)), default=list(scenes.SIZES))
    parser.add_argument("--imgsz", type=lambda t: [int(i) for i in csv_of(t)], default=[320, 480])
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    parser.add_argument("--smoke", action="store_true", help="photo scene, imgsz 320, 6 frames")
    args = parser.parse_args()
    if args.smoke:
        args.scenes, args.imgsz, args.frames, args.cameras = ["photo"], [320], 6, 2
    work = Path(tempfile.mkdtemp(prefix="clearway-bench-"))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    """Every (scene, imgsz) row, then the table. ultralytics is imported from here on (bare loop, scenes):
    offline, its settings file in the run's folder; the service inherits both."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_CONFIG_DIR"] = str(work / "yolo")
    from service.vision.detector import resolve_model

    models_dir = Path(os.environ.get("CLEARWAY_MODELS_DIR", REPO / "models"))
    model = resolve_model(os.environ.get("CLEARWAY_MODEL") or None, models_dir)  # the service's choice too
    print(f"model {Path(model).name}, {os.cpu_count()} CPUs, {args.frames} frames per row, {FRAME_EVERY_S:.0f} s apart")
    print(f"{args.cameras} cameras, scenes {','.join(args.scenes)}, imgsz {','.join(map(str, args.imgsz))}")
    rows = []
    for name in args.scenes:
        frames = scenes.frames(name, args.frames + 1)
        for imgsz in args.imgsz:
            row_dir = Path(tempfile.mkdtemp(prefix=f"{name}-{imgsz}-", dir=work))
            bare, service = measure(model, frames, imgsz, args.cameras, row_dir)
            rows.append(row(name, frames, imgsz, bare, service))
            print(f"  {name} imgsz {imgsz}: bare {bare.fps:.1f} fps, service {service.fps:.1f} fps", flush=True)
    print()
    print_table(rows, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
