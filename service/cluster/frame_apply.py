"""A worker applies one frame message: the bytes from the frame store, checked, decoded, through the pipeline.

What each outcome means for the message (the partition worker acts on it):
- `applied`, `duplicate` (a frame id already stored: a redelivery after a lost ack): ack, then the stored bytes
  are removed;
- `lost`: the partition's lease is no longer this worker's (the fence failed inside the frame's transaction,
  so nothing was written): nak, and the partition is given up;
- `broken`: the message can never be applied (bytes missing or not matching their hash, not an image, a
  camera no longer in the site): terminated, and counted as a refused frame with its reason;
- `retry`: a passing trouble (inference queue full, database unreachable): nak, tried again.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.cluster.leases import PartitionLeases
from service.cluster.messages import FrameMessage
from service.config.site_holder import SiteHolder
from service.metrics import Metrics
from service.pipeline import Pipeline
from service.store import models as m
from service.store.db import Database
from service.store.evidence import EvidenceStore, EvidenceTamperedError
from service.vision.decoding import ImageRejectedError, decode
from service.vision.pool import QueueFullError
from service.vision.types import Frame

log = logging.getLogger("clearway.cluster")


class Outcome(StrEnum):
    applied = "applied"
    duplicate = "duplicate"
    lost = "lost"
    broken = "broken"
    retry = "retry"


class LostPartition(RuntimeError):
    """The fence failed: another worker holds the partition now."""


class FrameApplier:
    def __init__(
        self,
        db: Database,
        sites: SiteHolder,
        pipeline: Pipeline,
        store: EvidenceStore,
        leases: PartitionLeases,
        metrics: Metrics,
        max_pixels: int,
        decode_fit: int | None,
    ) -> None:
        self.db, self.sites, self.pipeline, self.store = db, sites, pipeline, store
        self.leases, self.metrics = leases, metrics
        self.max_pixels, self.decode_fit = max_pixels, decode_fit

    def apply(self, partition: int, epoch: int, message: FrameMessage) -> Outcome:
        """One frame of `partition`, applied only while this worker holds it under `epoch`."""
        with self.db.session() as session:
            if session.get(m.FrameRecord, message.frame_id) is not None:
                return Outcome.duplicate
        if self.sites.current().camera(message.camera_id) is None:
            return self.reject("unknown_camera", message, "camera no longer in the site")
        try:
            data = self.store.read_verified(message.storage_key, message.sha256)
            decoded = decode(data, self.max_pixels, self.decode_fit)
        except FileNotFoundError:
            return self.reject("frame_store_missing", message, "its bytes are not in the frame store")
        except EvidenceTamperedError:
            return self.reject("frame_store_tampered", message, "its bytes do not match their hash")
        except ImageRejectedError as exc:
            return self.reject(exc.reason, message, str(exc))
        frame = Frame(
            message.camera_id, message.captured_at, decoded.image, message.source, data, message.hint, decoded.size
        )

        def fence(session: Session) -> None:
            if not self.leases.owns(partition, epoch, session):
                raise LostPartition(f"partition {partition} (epoch {epoch}) is no longer this worker's")

        try:
            self.pipeline.process(frame, message.frame_id, fence)
        except LostPartition:
            return Outcome.lost
        except (QueueFullError, TimeoutError, SQLAlchemyError) as exc:
            log.warning("frame %s of %s not applied yet (%s): retried", message.frame_id, message.camera_id, exc)
            return Outcome.retry
        return Outcome.applied

    def settled(self, message: FrameMessage) -> None:
        """The frame's message is acked: its waiting bytes can go (what is evidence was stored apart)."""
        self.store.remove(message.storage_key)

    def reject(self, reason: str, message: FrameMessage, why: str) -> Outcome:
        """Logged and counted as a refused frame (`clearway_frames_rejected_total{reason}`): never applicable."""
        log.warning("frame %s of %s refused: %s", message.frame_id, message.camera_id, why)
        self.metrics.reject(reason)
        return Outcome.broken
