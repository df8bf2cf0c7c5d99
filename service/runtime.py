"""Build the running system from settings: database (migrated), site, model pool, pipeline.

Shared by the web app and the CLI so both run exactly the same code path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from service.camera_events import handle_offline_event
from service.config.settings import Settings
from service.config.site import load_site
from service.delivery.service import DeliveryService
from service.hazards.engine import Tuning
from service.inference import InferencePool, QueueFullError
from service.metrics import Metrics
from service.pipeline import Pipeline
from service.store.db import Database
from service.store.evidence import EvidenceStore
from service.store.migrate import upgrade
from service.store.site_overrides import apply_overrides
from service.streams import StreamSupervisor
from service.vision.classmap import ClassMap
from service.vision.detector import Detector, UltralyticsDetector, resolve_model
from service.vision.types import Frame

log = logging.getLogger("clearway.runtime")

DetectorFactory = Callable[[], Detector]


def default_detector_factory(settings: Settings) -> DetectorFactory:
    """Resolve the model now (a missing model fails start-up with a clear message), load it per worker."""
    model = resolve_model(settings.model, settings.models_dir)
    class_map = ClassMap.load()
    return lambda: UltralyticsDetector(model, class_map, imgsz=settings.imgsz, device=settings.device)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    evidence: EvidenceStore
    metrics: Metrics
    pipeline: Pipeline
    delivery: DeliveryService | None = None
    streams: StreamSupervisor | None = None

    def close(self) -> None:
        if self.streams is not None:
            self.streams.stop()  # first: it feeds the pipeline
        if self.delivery is not None:
            self.delivery.close()  # before the database: its threads use it
        self.pipeline.close()  # saves the static-object models
        self.pipeline.pool.close()
        self.db.dispose()


def build_runtime(settings: Settings, detector_factory: DetectorFactory | None = None) -> Runtime:
    site = load_site(settings.site_file)
    factory = detector_factory or default_detector_factory(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    site = apply_overrides(db, site)  # zones saved in the web editor win over the site file's
    evidence = EvidenceStore(settings.evidence_dir)
    metrics = Metrics()
    pool = InferencePool(factory, workers=settings.inference_workers, capacity=settings.inference_queue)
    tuning = Tuning(settings.track_iou, settings.clear_after_s, settings.clear_after_misses)
    pipeline = Pipeline(site, db, evidence, pool, metrics, tuning)
    delivery = DeliveryService(db, lambda: pipeline.site, settings.delivery, evidence, registry=metrics.registry)
    delivery.start()
    streams = start_streams(settings, db, pipeline, metrics) if settings.streams_enabled else None
    return Runtime(settings, db, evidence, metrics, pipeline, delivery=delivery, streams=streams)


def start_streams(settings: Settings, db: Database, pipeline: Pipeline, metrics: Metrics) -> StreamSupervisor:
    """Pull the site's RTSP cameras into the pipeline, following config changes without a restart."""

    def on_frame(frame: Frame) -> None:
        try:
            pipeline.process(frame)
        except QueueFullError:
            metrics.reject("queue_full")  # the reader keeps only the newest frame; the next sample comes soon
        except Exception:
            log.exception("RTSP frame from %s could not be processed", frame.camera_id)
            metrics.reject("processing_error")

    supervisor = StreamSupervisor(
        on_frame,
        registry=metrics.registry,
        offline_after_s=settings.camera_offline_after_s,
        on_offline=lambda event: handle_offline_event(db, pipeline.site, event),
    )
    supervisor.apply(pipeline.site.cameras)
    pipeline.site_listeners.append(lambda site: supervisor.apply(site.cameras))
    return supervisor
