"""Build the running system from settings: database (migrated), site, model pool, scene models, hazard
writer with its delivery outbox, pipeline, delivery threads and RTSP readers; and take it down again.

Shared by the web app and the CLI so both run exactly the same code path. The app keeps it as
`app.state.runtime`; request handlers get it through `RuntimeDep` (service/deps.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from service.camera_events import handle_offline_event
from service.camera_locks import CameraLocks
from service.cluster.broker import BrokerUnavailable
from service.cluster.wiring import Cluster, start_cluster
from service.config.settings import Settings
from service.config.site import Site, load_site
from service.config.site_holder import SiteHolder
from service.config.site_warnings import log_site_warnings
from service.delivery.outbox import Outbox
from service.delivery.service import DeliveryService
from service.frame_flow import FrameQueued, FrameResult
from service.hazards.engine import Tuning
from service.metrics import Metrics
from service.pipeline import Pipeline
from service.reports.periods import final, weeks
from service.reports.schedule import ReportScheduler
from service.scene.scenes import StaticScenes
from service.sources import ReaderOptions, StreamSupervisor
from service.sources.device_intake import DeviceIntake
from service.sources.ftp_server import FtpIntake, FtpOptions
from service.sources.unknown_devices import UnknownDevices
from service.store.db import Database
from service.store.disk import DiskFullError, DiskGuard
from service.store.evidence import EvidenceStore
from service.store.hazard_writer import HazardWriter
from service.store.latest_frames import LatestFrames
from service.store.migrate import hold_schema_lock, upgrade
from service.store.retention import RetentionJob, RetentionPolicy
from service.store.site_overrides import apply_overrides
from service.store.site_sync import sync_site
from service.vision.classmap import ClassMap
from service.vision.detector import Detector, UltralyticsDetector, resolve_model
from service.vision.onnx_backend import OnnxDetector
from service.vision.pool import InferencePool, QueueFullError
from service.vision.threads import ThreadPlan, plan
from service.vision.types import Frame

log = logging.getLogger("clearway.runtime")

DetectorFactory = Callable[[], Detector]
Intake = Callable[[Frame], FrameResult | FrameQueued]


def thread_plan(settings: Settings) -> ThreadPlan:
    """The machine's plan for workers and threads, applied (OpenCV's pool is process-wide)."""
    threads = plan(settings.inference_workers, settings.inference_threads)
    threads.apply()
    return threads


def default_detector_factory(settings: Settings, threads: ThreadPlan | None = None) -> DetectorFactory:
    """Resolve the model now (a missing model fails start-up with a clear message), load it per worker, with
    the threads the machine's plan gives each worker (service/vision/threads.py)."""
    model = resolve_model(settings.model, settings.models_dir)
    class_map = ClassMap.load()
    threads = threads or thread_plan(settings)
    direct = settings.backend == "onnxruntime" or (settings.backend == "auto" and model.endswith(".onnx"))
    if direct and settings.device == "cpu":
        return lambda: OnnxDetector(model, class_map, imgsz=settings.imgsz, threads=threads.inference)
    return lambda: UltralyticsDetector(model, class_map, imgsz=settings.imgsz, device=settings.device)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    evidence: EvidenceStore
    metrics: Metrics
    sites: SiteHolder
    scenes: StaticScenes
    writer: HazardWriter
    pool: InferencePool
    pipeline: Pipeline
    delivery: DeliveryService
    reports: ReportScheduler
    devices: DeviceIntake
    unknown_devices: UnknownDevices
    streams: StreamSupervisor | None = None
    ftp: FtpIntake | None = None
    disk: DiskGuard | None = None  # None: no free-space guard (CLEARWAY_MIN_FREE_DISK_MB=0)
    retention: RetentionJob | None = None
    cluster: Cluster | None = None  # roles ingest and worker: the broker, and a worker's partitions

    @property
    def intake(self) -> Intake:
        """Where a validated frame goes: the pipeline here (role all), or the broker for the workers."""
        return self.cluster.intake if self.cluster is not None else self.pipeline.process

    def close(self) -> None:
        if self.streams is not None:
            self.streams.stop()  # first: it feeds the pipeline
        if self.ftp is not None:
            self.ftp.close()  # devices stop uploading before their queue is drained
        self.devices.close()  # then the devices' pictures already queued
        if self.cluster is not None:
            self.cluster.close()  # a worker finishes its frames and hands its partitions back
        if self.retention is not None:
            self.retention.close()  # stops between two batches; the next start goes on from there
        self.reports.close()  # before delivery: it writes deliveries
        self.delivery.close()  # before the database: its threads use it
        self.scenes.close()  # keeps what the scene models learned since their last save
        self.pool.close()
        self.db.dispose()


def build_runtime(settings: Settings, detector_factory: DetectorFactory | None = None) -> Runtime:
    site = load_site(settings.site_file)
    threads = thread_plan(settings)
    factory = detector_factory or default_detector_factory(settings, threads)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    site = apply_overrides(db, site)  # zones saved in the web editor win over the site file's
    log_site_warnings(site, str(settings.site_file))  # what the file likely did not mean, once
    mirror_site(db, site)
    sites = SiteHolder(site)
    evidence = EvidenceStore(settings.evidence_dir)
    metrics = Metrics()
    disk = disk_guard(settings)
    if disk is not None:
        disk.register(metrics.registry)
    outbox = Outbox(sites.current, settings.delivery, metrics)  # counts what the cooldown holds
    writer = HazardWriter(evidence, sink=outbox)  # every history row the writer records becomes deliveries
    locks = CameraLocks()
    scenes = StaticScenes(db, locks)
    scenes.apply_site(site)
    model_workers = 0 if settings.role == "ingest" else threads.workers  # ingest hands frames on, unseen
    pool = InferencePool(
        factory,
        workers=model_workers,
        capacity=settings.inference_queue,
        batch=settings.inference_batch,
        batch_wait_s=settings.inference_batch_wait_ms / 1000,
    )
    tuning = Tuning(settings.track_iou, settings.clear_after_s, settings.clear_after_misses)
    latest = LatestFrames(settings.data_dir / "latest", settings.latest_frame_every_s)  # the editor's view
    pipeline = Pipeline(sites, db, writer, pool, scenes, locks, metrics, tuning, latest, settings.second_look_min)
    delivery = DeliveryService(db, sites.current, settings.delivery, writer, outbox, registry=metrics.registry)
    delivery.start()
    cluster = None if settings.role == "all" else start_cluster(settings, db, sites, pipeline, scenes, metrics)
    intake = cluster.intake if cluster is not None else pipeline.process
    devices = DeviceIntake(
        intake, metrics, settings.max_pixels, settings.device_queue, disk=disk, decode_fit=settings.decode_fit
    )
    reports = ReportScheduler(db, sites.current, outbox, settings.delivery.public_url)
    if settings.delivery.background and settings.delivery.reports:
        reports.start(settings.delivery.report_interval_s)
    # Who follows a site change, in this order: the database mirror, the dwell engines, the scene models.
    sites.subscribe(lambda changed: mirror_site(db, changed))
    sites.subscribe(pipeline.follow)
    sites.subscribe(scenes.apply_site)
    retention = RetentionJob(
        db, writer, retention_policy(settings), metrics.registry, scheduled_reports=lambda: scheduled(sites.current())
    )
    if settings.retention_enabled:
        retention.start(settings.retention_interval_s)  # a round now (and a crash's temp files), then hourly
    streams = start_streams(settings, db, writer, sites, intake, metrics, disk) if settings.streams_enabled else None
    unknown_devices = UnknownDevices()
    ftp_options = FtpOptions.from_settings(settings)  # None when ftp_port is unset
    ftp = FtpIntake(ftp_options, sites.current, devices, metrics, unknown_devices).start() if ftp_options else None
    return Runtime(
        settings,
        db,
        evidence,
        metrics,
        sites,
        scenes,
        writer,
        pool,
        pipeline,
        delivery,
        reports,
        devices,
        unknown_devices,
        streams,
        ftp,
        disk=disk,
        retention=retention,
        cluster=cluster,
    )


def disk_guard(settings: Settings) -> DiskGuard | None:
    """Free space of the database's and the evidence's directories (they may be different mounts)."""
    if settings.min_free_disk_mb <= 0:
        return None
    return DiskGuard([settings.data_dir, settings.evidence_dir], settings.min_free_disk_mb * 1024 * 1024)


def retention_policy(settings: Settings) -> RetentionPolicy:
    """The settings' days, 0 meaning "keep forever"."""
    return RetentionPolicy(
        frames_days=settings.retention_frames_days or None,
        detections_days=settings.retention_detections_days or None,
        closed_evidence_days=settings.retention_evidence_days or None,
        campaign_reports_days=settings.retention_reports_days or None,
        batch_size=settings.retention_batch_size,
        max_batches=settings.retention_max_batches,
    )


def scheduled(site: Site) -> list[tuple[str, str]]:
    """The (kind, period) the report schedule makes: retention never deletes those (they would be made again)."""
    if site.campaign is None:
        return []
    return [(p.kind, p.label) for p in [*weeks(site.campaign, site.zone), final(site.campaign, site.zone)]]


def mirror_site(db: Database, site: Site) -> None:
    """Agencies, compounds, cameras and zones into the database, so hazards, scopes and reports can join."""
    with db.session() as session:
        hold_schema_lock(session.connection())
        sync_site(session, site)


def start_streams(
    settings: Settings,
    db: Database,
    writer: HazardWriter,
    sites: SiteHolder,
    intake: Intake,
    metrics: Metrics,
    disk: DiskGuard | None = None,
) -> StreamSupervisor:
    """Pull the site's RTSP, snapshot and Dahua cameras into the pipeline, following site changes live."""

    def on_frame(frame: Frame) -> None:
        try:
            if disk is not None:
                disk.check()
            intake(frame)
        except QueueFullError:
            metrics.reject("queue_full")  # the reader keeps only the newest frame; the next sample comes soon
        except DiskFullError:
            metrics.reject("disk_full")  # skipped until the clean-up (or an operator) makes room
        except BrokerUnavailable:
            metrics.reject("broker_unavailable")  # the next sample comes soon; the broker may be back by then
        except Exception:
            log.exception("pulled frame from %s could not be processed", frame.camera_id)
            metrics.reject("processing_error")

    supervisor = StreamSupervisor(
        on_frame,
        registry=metrics.registry,
        offline_after_s=settings.camera_offline_after_s,
        on_offline=lambda event: handle_offline_event(db, writer, sites.current(), event),
        options=ReaderOptions(
            max_picture_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels, decode_fit=settings.decode_fit
        ),
    )
    supervisor.apply(sites.current().cameras)
    sites.subscribe(lambda changed: supervisor.apply(changed.cameras))
    return supervisor
