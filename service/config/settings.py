"""Process settings from the environment (prefix CLEARWAY_, plus DATABASE_URL).

Every knob has a sane default so `clearway serve` runs with no configuration at all:
SQLite and evidence under ./data, the demo site, the offline default model.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.config.broker_settings import BrokerSettings
from service.config.report_settings import ReportSettings
from service.delivery.settings import DeliverySettings

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DEMO_SITE = PACKAGE_DIR / "config" / "demo-site.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Database file (SQLite) and evidence images.")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "CLEARWAY_DATABASE_URL"),
        description="SQLAlchemy URL; default sqlite:///<data_dir>/clearway.db",
    )
    site_file: Path = Field(default=DEMO_SITE, description="The site YAML (agencies, compounds, cameras, zones).")
    model: str | None = Field(default=None, description="Model path or name; default: the installed offline model.")
    models_dir: Path = Field(default=Path("models"), description="Where converted/installed weights live.")
    imgsz: int = Field(default=480, ge=160, le=1920, description="480 suits the default model (models/README.md).")
    device: str = "cpu"

    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_pixels: int = Field(default=40_000_000, gt=0, description="Decompression-bomb guard (40 MP).")
    reduced_decode: bool = Field(
        default=True, description="Decode JPEG frames at the size the model needs; evidence keeps every pixel."
    )
    max_clock_skew_s: float = Field(default=300.0, ge=0, description="How far in the future captured_at may be.")
    inference_workers: int | None = Field(
        default=None, ge=1, le=16, description="Inference workers (a model each); default: one per core, up to 4."
    )
    inference_threads: int | None = Field(
        default=None, ge=1, le=256, description="Intra-op threads per inference worker; default: cores / workers."
    )
    backend: Literal["auto", "onnxruntime", "ultralytics"] = Field(
        default="auto", description="auto: .onnx models through ONNX Runtime directly, others through Ultralytics."
    )
    inference_queue: int = Field(default=8, ge=1, le=1000, description="Frames waiting; more are refused (429).")
    inference_batch: int = Field(
        default=1, ge=1, le=64, description="Frames one model call may take when several wait (GPU: 4-16; CPU: 1)."
    )
    inference_batch_wait_ms: float = Field(
        default=0.0, ge=0, le=200, description="How long a worker waits for a batch to fill (0: only what waits)."
    )
    device_queue: int = Field(
        default=64, ge=1, le=10_000, description="Device pictures (alarm server, FTP) waiting; more are refused (503)."
    )
    ftp_port: int | None = Field(
        default=None, ge=1, le=65535, description="Built-in FTP server for camera/NVR picture uploads; off when unset."
    )
    ftp_host: str = Field(default="0.0.0.0", description="Address the FTP server listens on.")
    ftp_passive_ports: str | None = Field(
        default=None, pattern=r"^\d{1,5}(-\d{1,5})?$", description="Passive data ports, e.g. 30000-30009; default any."
    )
    ftp_masquerade_address: str | None = Field(default=None, description="Address told in PASV replies (NAT, Docker).")
    ftp_max_file_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="Largest uploaded picture accepted.")

    streams_enabled: bool = Field(default=True, description="Pull the site's RTSP, snapshot and Dahua cameras.")
    camera_offline_after_s: float = Field(default=300.0, ge=0, description="Offline this long raises camera_offline.")

    track_iou: float = Field(default=0.3, gt=0, le=1)
    clear_after_s: float = Field(default=60.0, ge=0, description="Absence that clears a hazard...")
    clear_after_misses: int = Field(default=3, ge=1, description="...and consecutive frames without it.")

    min_free_disk_mb: int = Field(
        default=1024, ge=0, description="Below this much free space new frames are refused (507); 0: no guard."
    )
    retention_enabled: bool = Field(default=True, description="Run the clean-up (docs/retention.md) in the service.")
    retention_interval_s: float = Field(default=3600.0, gt=0, description="Between two clean-up rounds.")
    retention_frames_days: float = Field(default=14.0, ge=0, description="Frames no hazard points to; 0 keeps.")
    retention_detections_days: float = Field(default=7.0, ge=0, description="Their detections; 0 keeps.")
    retention_evidence_days: float = Field(
        default=365.0, ge=0, description="Evidence of hazards closed this long ago (not supervised/held); 0 keeps."
    )
    retention_reports_days: float = Field(
        default=0.0, ge=0, description="Campaign reports no longer scheduled; 0 (the default) keeps them."
    )
    latest_frame_every_s: float = Field(
        default=120.0, ge=0, le=86_400, description="Each camera's latest view (zone editor) is replaced this often."
    )
    retention_batch_size: int = Field(default=500, ge=1, le=10_000, description="Rows per clean-up transaction.")
    retention_max_batches: int = Field(default=200, ge=1, description="Batches per kind and round.")

    second_look_min: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Before a camera hazard opens, the object's region is looked at again (docs: second look); "
        "a confirmation below this keeps the hazard 'suspected', awaiting review, not delivered. 0: no second look.",
    )
    undo_window_s: float = Field(
        default=300.0, ge=0, le=3600, description="How long the person who confirmed or dismissed may undo it."
    )

    role: Literal["all", "ingest", "worker"] = Field(
        default="all",
        description="all: one process, no broker. ingest: frames stored and published to NATS JetStream. "
        "worker: also applies the camera partitions it leases (docs/scale.md). ingest and worker need PostgreSQL.",
    )
    frame_store_dir: Path | None = Field(
        default=None,
        description="Where ingest stores frames for the workers: the same shared filesystem on every machine; "
        "default <data_dir>/incoming.",
    )
    lease_s: float = Field(
        default=10.0, gt=0, le=600, description="A worker silent this long loses its camera partitions."
    )
    nats: BrokerSettings = Field(default_factory=BrokerSettings, description="NATS JetStream (CLEARWAY_NATS_...).")
    delivery: DeliverySettings = Field(default_factory=DeliverySettings, description="Outbox dispatcher, escalation.")
    reports: ReportSettings = Field(default_factory=ReportSettings, description="Residents' reports (Open311).")

    @property
    def decode_fit(self) -> int | None:
        """The long side JPEG frames are decoded to (the model's input); None: in full."""
        return self.imgsz if self.reduced_decode else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'clearway.db').as_posix()}"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def incoming_dir(self) -> Path:
        return self.frame_store_dir or self.data_dir / "incoming"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
