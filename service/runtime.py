"""Build the running system from settings: database (migrated), site, model pool, pipeline.

Shared by the web app and the CLI so both run exactly the same code path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from service.config.settings import Settings
from service.config.site import load_site
from service.delivery.service import DeliveryService
from service.hazards.engine import Tuning
from service.inference import InferencePool
from service.metrics import Metrics
from service.pipeline import Pipeline
from service.store.db import Database
from service.store.evidence import EvidenceStore
from service.store.migrate import upgrade
from service.store.site_overrides import apply_overrides
from service.vision.classmap import ClassMap
from service.vision.detector import Detector, UltralyticsDetector, resolve_model

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

    def close(self) -> None:
        if self.delivery is not None:
            self.delivery.close()  # first: its threads use the database
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
    return Runtime(settings, db, evidence, metrics, pipeline, delivery=delivery)
