"""Prometheus view of camera health, read from the supervisor at scrape time.

A custom collector rather than labelled Gauge/Counter objects: cameras come and go with the site
config, and a collector that reports the current set leaves no stale series behind. It registers
on the registry it is given, never on prometheus_client's global one (tests and apps own theirs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.sources.health import CameraHealth

STATUSES = ("starting", "online", "stalled", "offline")
VIEW_PROBLEMS = ("frozen", "black", "covered")
_COUNTERS = (
    ("reconnects", "Connections re-established after a drop."),
    ("connect_failures", "Failed attempts to open the stream."),
    ("decode_errors", "Packets the decoder rejected."),
    ("frames_decoded", "Frames that went through the decoder."),
    ("frames_sampled", "Sampled frames handed to the pipeline."),
    ("frames_dropped", "Sampled frames replaced before the pipeline took them (sink too slow)."),
)


class StreamMetrics(Collector):
    """Collector over `health_source()` (e.g. `StreamSupervisor.health`)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        health_source: Callable[[], dict[str, CameraHealth]],
        prefix: str = "clearway",
    ) -> None:
        self._health_source = health_source
        self._prefix = prefix
        registry.register(self)

    def describe(self) -> list[Metric]:
        return []  # no fixed set of series: collected on demand

    def collect(self) -> Iterator[Metric]:
        p = self._prefix
        healths = list(self._health_source().values())
        status = GaugeMetricFamily(
            f"{p}_camera_status", "1 for the camera's current status.", labels=["camera_id", "status"]
        )
        up = GaugeMetricFamily(f"{p}_camera_up", "1 while the camera delivers frames.", labels=["camera_id"])
        last = GaugeMetricFamily(
            f"{p}_camera_last_frame_timestamp_seconds", "Capture time of the last sampled frame.", labels=["camera_id"]
        )
        view = GaugeMetricFamily(
            f"{p}_camera_view_problem", "1 while the view is frozen, black or covered.", labels=["camera_id", "problem"]
        )
        keyframes = GaugeMetricFamily(
            f"{p}_camera_keyframe_only", "1 while only keyframes are decoded.", labels=["camera_id"]
        )
        counters = {
            name: CounterMetricFamily(f"{p}_camera_{name}", text, labels=["camera_id"]) for name, text in _COUNTERS
        }
        for h in healths:
            for s in STATUSES:
                status.add_metric([h.camera_id, s], 1.0 if h.status == s else 0.0)
            up.add_metric([h.camera_id], 1.0 if h.status == "online" else 0.0)
            if h.last_frame_at is not None:
                last.add_metric([h.camera_id], h.last_frame_at.timestamp())
            for problem in VIEW_PROBLEMS:
                view.add_metric([h.camera_id, problem], 1.0 if h.view_problem == problem else 0.0)
            if h.decode_mode is not None:
                keyframes.add_metric([h.camera_id], 1.0 if h.decode_mode == "keyframes" else 0.0)
            for name, family in counters.items():
                family.add_metric([h.camera_id], float(getattr(h, name)))
        yield from (status, up, last, view, keyframes, *counters.values())
