"""Ingest: a validated frame's bytes to the shared frame store, its message to the camera's partition.

The client is answered only once the broker has acknowledged the message (`FrameQueued`), so an answered
frame is never lost: its bytes are on the shared filesystem (fsynced) before the message exists, and the
message is in the stream's store. The frame id is derived from the frame itself (camera, capture time,
bytes), so a client that retries after a lost answer, or our own retry, is stored once: the broker drops a
repeated id within its duplicate window, and a worker finds a frame id it has applied already.
"""

from __future__ import annotations

import hashlib
import logging

from service.cluster.broker import BrokerUnavailable
from service.cluster.link import BrokerLink
from service.cluster.messages import FrameMessage
from service.cluster.partitions import camera_token, partition_of
from service.frame_flow import FrameQueued
from service.store.evidence import EvidenceStore, media_type_of, suffix_of
from service.vision.annotate import encode_jpeg
from service.vision.types import Frame

log = logging.getLogger("clearway.cluster")


def storage_key(partition: int, camera_id: str, frame_id: str, data: bytes) -> str:
    """Where a frame waits in the frame store: by partition and camera, so a look at the folder shows the load."""
    return f"{partition}/{camera_token(camera_id)}/{frame_id}.{suffix_of(data)}"


class ClusterIngest:
    """Hands frames to the workers through the frame store and the broker; same call as `Pipeline.process`."""

    def __init__(self, link: BrokerLink, store: EvidenceStore) -> None:
        self.link, self.store = link, store
        self.partitions = link.settings.partitions

    def submit(self, frame: Frame) -> FrameQueued:
        """Store and publish one validated frame; BrokerUnavailable when the broker did not acknowledge it."""
        data = frame.encoded if frame.encoded is not None else encode_jpeg(frame.image)
        sha = hashlib.sha256(data).hexdigest()
        frame_id = FrameMessage.frame_id_for(frame.camera_id, frame.captured_at, sha)
        partition = partition_of(frame.camera_id, self.partitions)
        key = storage_key(partition, frame.camera_id, frame_id, data)
        self.store.save(key, data, sha)
        message = FrameMessage(
            frame_id=frame_id,
            camera_id=frame.camera_id,
            captured_at=frame.captured_at,
            sha256=sha,
            storage_key=key,
            source=frame.source,
            content_type=media_type_of(data),
            size=len(data),
            hint=frame.hint,
        )
        timeout = self.link.settings.request_timeout_s + 1
        try:
            ack = self.link.call(lambda: self.link.broker.publish(message), timeout)
        except BrokerUnavailable:
            log.warning("frame %s of %s not acknowledged by the broker: the client retries", frame_id, frame.camera_id)
            raise
        return FrameQueued(frame_id, frame.camera_id, frame.captured_at, partition, ack.duplicate)
