"""RTSP decode benchmark: CPU seconds per camera-minute and cameras per core at 1 sample / 5 s,
keyframe-only vs full decoding, for N simultaneous streams from the local RTSP server.

    .venv/bin/python bench/rtsp_decode.py                         # default table (~8 min on 2 cores)
    .venv/bin/python bench/rtsp_decode.py --streams 1,8 --seconds 20 --modes keyframes,all
    .venv/bin/python bench/rtsp_decode.py --runners threads,asyncio --modes keyframes --streams 16,64
    .venv/bin/python bench/rtsp_decode.py --smoke                 # seconds, proves it runs (CI)

The readers are the production ones (StreamSupervisor -> CameraReader -> SampledDecoder, BGR
conversion and view checks included); "asyncio" is a same-work variant that awaits every PyAV call
in an executor, to measure what an event loop would cost. CPU is this process's user+system time
over the window (the server's is reported apart: it shares the cores). "keeping up" is sampled
frames / expected samples: below ~90% the machine is saturated and the CPU figure is a floor.
Needs ffmpeg and Debian's python3-gi + gir1.2-gst-rtsp-server-1.0 (see tests/sources/support).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av

from service.config.site import Camera, RtspSource
from service.sources import ReaderOptions, StreamSupervisor
from service.sources.decode import SampledDecoder
from service.sources.view import ViewMonitor
from tests.sources.support.harness import RtspServer, make_clip, missing_tools


@dataclass
class Result:
    runner: str
    mode: str
    streams: int
    window_s: float
    cpu_s: float
    server_cpu_s: float
    sampled: int
    decoded: int
    expected: int
    rss_mib: float

    @property
    def cpu_per_camera_minute(self) -> float:
        return self.cpu_s / (self.streams * self.window_s / 60)

    @property
    def cameras_per_core(self) -> float:
        return 60 / self.cpu_per_camera_minute if self.cpu_s > 0 else float("inf")


def rss_mib() -> float:
    """Resident memory now (not the peak: rows run one after another in this process)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def camera(i: int, url: str, interval: float, mode: str) -> Camera:
    source = RtspSource(url=url, sample_interval_s=interval, decode=mode, open_timeout_s=20, read_timeout_s=20)
    return Camera(id=f"cam{i:03d}", compound="bench", source="rtsp", rtsp=source)


def run_threads(server: RtspServer, n: int, mode: str, args: argparse.Namespace) -> Result:
    """The production path: one supervisor, one reader thread per camera."""
    supervisor = StreamSupervisor(lambda frame: None, options=ReaderOptions(probe_s=1.0))
    supervisor.apply([camera(i, server.url(), args.interval, mode) for i in range(n)])
    deadline = time.monotonic() + 60 + n
    while time.monotonic() < deadline:  # warm up: every camera has delivered a frame
        if all(h.frames_sampled > 0 for h in supervisor.health().values()):
            break
        time.sleep(0.2)
    time.sleep(1.0)
    before = supervisor.health()
    cpu0, srv0, t0 = time.process_time(), server.cpu_seconds(), time.monotonic()
    time.sleep(args.seconds)
    cpu1, srv1, t1 = time.process_time(), server.cpu_seconds(), time.monotonic()
    after, rss = supervisor.health(), rss_mib()
    supervisor.stop(timeout=30)
    window = t1 - t0
    return Result(
        "threads",
        mode,
        n,
        window,
        cpu1 - cpu0,
        srv1 - srv0,
        sum(after[c].frames_sampled - before[c].frames_sampled for c in after),
        sum(after[c].frames_decoded - before[c].frames_decoded for c in after),
        int(n * window / args.interval),
        rss,
    )


def run_asyncio(server: RtspServer, n: int, mode: str, args: argparse.Namespace) -> Result:
    """Same work on one event loop: PyAV blocks, so every open/read is awaited in an executor that
    needs a thread per camera anyway (a read can block for its whole timeout)."""
    counts = {"sampled": 0, "decoded": 0, "ready": 0}
    stop = threading.Event()

    async def read(pool: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        options = {"rtsp_transport": "tcp", "analyzeduration": "1000000", "allowed_media_types": "video"}
        container = await loop.run_in_executor(pool, lambda: av.open(server.url(), options=options, timeout=20))
        stream = container.streams.video[0]
        decoder = SampledDecoder(stream.codec_context, args.interval, mode)  # type: ignore[arg-type]
        view, packets, first = ViewMonitor(), container.demux(stream), True
        while not stop.is_set():
            packet = await loop.run_in_executor(pool, next, packets, None)
            if packet is None:
                break
            if packet.pts is None:
                continue
            before = decoder.frames_decoded
            for frame in decoder.push(packet, float(packet.pts * packet.time_base)):
                view.update(frame.to_ndarray(format="bgr24"), time.monotonic())
                counts["sampled"] += 1
                if first:
                    counts["ready"], first = counts["ready"] + 1, False
            counts["decoded"] += decoder.frames_decoded - before
        container.close()

    async def main() -> Result:
        with ThreadPoolExecutor(max_workers=n + 2) as pool:
            tasks = [asyncio.create_task(read(pool)) for _ in range(n)]
            deadline = time.monotonic() + 60 + n
            while counts["ready"] < n and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            s0, d0 = counts["sampled"], counts["decoded"]
            cpu0, srv0, t0 = time.process_time(), server.cpu_seconds(), time.monotonic()
            await asyncio.sleep(args.seconds)
            cpu1, srv1, t1 = time.process_time(), server.cpu_seconds(), time.monotonic()
            s1, d1, rss = counts["sampled"], counts["decoded"], rss_mib()
            stop.set()
            await asyncio.wait(tasks, timeout=30)
        window = t1 - t0
        expected = int(n * window / args.interval)
        return Result("asyncio", mode, n, window, cpu1 - cpu0, srv1 - srv0, s1 - s0, d1 - d0, expected, rss)

    return asyncio.run(main())


def table(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        f"clip {args.width}x{args.height} @ {args.fps} fps, keyframe every {args.gop:g} s, ~{args.kbps} kbit/s; "
        f"1 sample / {args.interval:g} s; window {args.seconds:g} s; {os.cpu_count()} CPUs",
        "",
        "| runner | decode | streams | CPU s / camera-min | cameras / core | frames decoded / sample "
        "| keeping up | server CPU % | RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        per_sample = r.decoded / r.sampled if r.sampled else float("nan")
        lines.append(
            f"| {r.runner} | {r.mode} | {r.streams} | {r.cpu_per_camera_minute:.3f} | {r.cameras_per_core:.0f} "
            f"| {per_sample:.1f} | {100 * r.sampled / max(1, r.expected):.0f}% "
            f"| {100 * r.server_cpu_s / r.window_s:.0f}% | {r.rss_mib:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", default="1,8,32,64", help="comma-separated N")
    parser.add_argument("--modes", default="keyframes,all")
    parser.add_argument("--runners", default="threads")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window per row")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--gop", type=float, default=2.0, help="keyframe interval, seconds")
    parser.add_argument("--kbps", type=int, default=2000)
    parser.add_argument("--max-full", type=int, default=16, help="skip full decoding above this N (saturated)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the table shows the median")
    parser.add_argument("--smoke", action="store_true", help="tiny run that proves the benchmark works")
    args = parser.parse_args()
    if args.smoke:
        args.streams, args.seconds, args.width, args.height, args.gop = "2", 5.0, 320, 240, 1.0
    why = missing_tools()
    if why:
        sys.exit(f"cannot run: {why}")
    with tempfile.TemporaryDirectory(prefix="clearway-rtsp-bench-") as tmp:
        clip = make_clip(
            Path(tmp) / "bench.mp4",
            width=args.width,
            height=args.height,
            fps=args.fps,
            gop_s=args.gop,
            seconds=20,
            noise=3,
            bitrate_kbps=args.kbps,
        )
        runs: dict[tuple[str, str, int], list[Result]] = {}
        with RtspServer(clip, fps=args.fps) as server:
            for _ in range(args.repeat):  # repeats interleaved, so load from elsewhere hits every row alike
                for runner in args.runners.split(","):
                    for mode in args.modes.split(","):
                        for n in (int(x) for x in args.streams.split(",")):
                            if mode == "all" and n > args.max_full:
                                continue
                            run = run_threads if runner == "threads" else run_asyncio
                            result = run(server, n, mode, args)
                            runs.setdefault((runner, mode, n), []).append(result)
                            print(table([result], args).splitlines()[-1], flush=True)
    results = [sorted(rs, key=lambda r: r.cpu_per_camera_minute)[len(rs) // 2] for rs in runs.values()]
    print(f"\nmedian of {args.repeat} run(s) per row" if args.repeat > 1 else "")
    print(table(results, args))


if __name__ == "__main__":
    main()
