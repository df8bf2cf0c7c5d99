"""Prometheus metrics, on a registry owned by the app instance (tests build many apps in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.frames_accepted = Counter(
            "clearway_frames_accepted_total", "Frames accepted for processing", ["camera", "source"], registry=r
        )
        self.frames_rejected = Counter(
            "clearway_frames_rejected_total", "Frames refused, by reason", ["reason"], registry=r
        )
        self.stage_seconds = Histogram(
            "clearway_stage_seconds", "Time per pipeline stage", ["stage"], buckets=STAGE_BUCKETS, registry=r
        )
        self.inference_seconds = Histogram(
            "clearway_inference_seconds", "Model inference time per frame", buckets=STAGE_BUCKETS, registry=r
        )
        self.queue_depth = Gauge("clearway_inference_queue_depth", "Frames waiting for inference", registry=r)
        self.open_hazards = Gauge("clearway_open_hazards", "Hazards not yet closed", registry=r)
        self.hazard_changes = Counter("clearway_hazard_changes_total", "Hazard changes by kind", ["kind"], registry=r)
        self.lift_entries = Counter(
            "clearway_lift_entries_total",
            "Objects seen entering a lift (elevator zone)",
            ["camera", "zone"],
            registry=r,
        )
        self.fixtures_ignored = Counter(
            "clearway_fixture_detections_total", "Detections ignored as a marked fixture", ["camera"], registry=r
        )
        self.second_looks = Counter(
            "clearway_second_looks_total",
            "Second looks before a camera hazard opens: confirmed, held (suspected) or none (not made)",
            ["outcome"],
            registry=r,
        )
        self.device_pictures = Counter(
            "clearway_device_pictures_total",
            "Pictures from devices (alarm server, FTP, pull readers) by outcome",
            ["source", "outcome"],
            registry=r,
        )
        self.device_events = Counter(
            "clearway_device_events_total",
            "Device notifications by source and outcome (accepted, heartbeat, unknown_device, refused reasons)",
            ["source", "outcome"],
            registry=r,
        )
        self.auth_failures = Counter("clearway_auth_failures_total", "Refused credentials", ["reason"], registry=r)
        self.deliveries_held = Counter(
            "clearway_deliveries_held_total", "Deliveries held back instead of sent, by reason", ["reason"], registry=r
        )
        self.digests_sent = Counter(
            "clearway_digests_sent_total", "Cooldown digests made and handed to the outbox", registry=r
        )

    def reject(self, reason: str) -> None:
        self.frames_rejected.labels(reason=reason).inc()
