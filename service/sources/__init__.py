"""Pulled cameras (RTSP, snapshots, Dahua event streams): one reader thread each, frames into the pipeline, health.

Public API: `StreamSupervisor` (start/stop/restart readers from the site config), `CameraHealth`,
`OfflineAlarm` / `OfflineEvent` (when a `camera_offline` event is due), `StreamMetrics`.
"""

from service.sources.health import CameraHealth, OfflineAlarm, OfflineEvent
from service.sources.metrics import StreamMetrics
from service.sources.reader import ReaderOptions
from service.sources.supervisor import StreamSupervisor

__all__ = ["CameraHealth", "OfflineAlarm", "OfflineEvent", "ReaderOptions", "StreamMetrics", "StreamSupervisor"]
