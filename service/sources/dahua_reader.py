"""Dahua cameras and NVRs over their HTTP API: the device tells us when it saw something, and with what picture.

mode `snapshots`: `snapManager.cgi?action=attachFileProc` streams each event (a text part of
`Events[0].EventBaseInfo.Code=...` lines) followed by its JPEG. mode `events`: `eventManager.cgi?action=attach`
streams event lines (`Code=CrossRegionDetection;action=Start;index=0;data={...}`); on a Start (or Pulse) we
fetch `snapshot.cgi?channel=N`. Either way the picture becomes a Frame whose `hint` is the device's event:
stored and shown, never trusted (the model decides).

Both streams are multipart/x-mixed-replace with digest authentication. The device sends a heartbeat every
`heartbeat_s`; nothing for twice that is a stall, and the reader reconnects with the RTSP reader's backoff.
VideoLoss, VideoBlind and scene-change events are the device telling us its view is lost: they set the
camera's `view_problem` (Start) and clear it (Stop), like the RTSP reader's own view checks, and make no frame.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from service.config.devices import DahuaSource
from service.sources.health import ViewProblem, utcnow
from service.sources.multipart_stream import MultipartError, MultipartStream, Part, boundary_of
from service.sources.pull_http import Connection, PullFailure, describe
from service.sources.snapshot_reader import PullReader

log = logging.getLogger(__name__)

VIEW_EVENTS: dict[str, ViewProblem] = {
    "VideoLoss": "black",  # no signal: an NVR input or a dead sensor
    "VideoBlind": "covered",  # tampering: lens covered or sprayed
    "SceneChange": "covered",  # turned away from its scene
    "VideoAbnormalDetection": "covered",  # Dahua's name for scene change on newer firmware
}
_MAX_SNAPMANAGER_HEARTBEAT = 60  # attachFileProc accepts 1..60 s
_MAX_TEXT = 64 * 2**10  # an event part longer than this is not parsed
_MAX_HINT_DATA = 4096  # the device's raw event data is kept in the hint only when this small
_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_DAHUA_SCALE = 8191.0  # Dahua boxes are in a 0..8191 coordinate space


@dataclass(frozen=True)
class DahuaEvent:
    code: str
    action: str  # Start | Stop | Pulse
    index: int | None = None  # the channel, from 0 (events mode); None when the device did not say
    data: dict = field(default_factory=dict)

    def hint(self) -> dict:
        """What the device said, in the shape the Hikvision hint has (vendor, event, region, targets)."""
        objects = self.data.get("Objects") or [self.data.get("Object")]
        hint = {
            "vendor": "dahua",
            "event": self.code,
            "action": self.action,
            "region": str(self.data.get("Name") or ""),
            "targets": [_target(o) for o in objects if isinstance(o, dict)],
        }
        if self.index is not None:
            hint["channel"] = self.index + 1
        if len(json.dumps(self.data, default=str)) <= _MAX_HINT_DATA:
            hint["data"] = self.data
        return hint


def _target(obj: dict) -> dict:
    box = obj.get("BoundingBox")
    normal = None
    if isinstance(box, list) and len(box) == 4 and all(isinstance(v, int | float) for v in box):
        normal = tuple(round(min(max(v / _DAHUA_SCALE, 0.0), 1.0), 4) for v in box)
    return {"kind": str(obj.get("ObjectType") or "").lower(), "box": normal}


def parse_event_lines(text: str) -> list[DahuaEvent]:
    """eventManager parts: one or more `Code=...;action=...;index=...;data={json}` (data may span lines)."""
    events = []
    for chunk in re.split(r"(?m)^(?=Code=)", text):
        chunk = chunk.strip()
        if not chunk.startswith("Code="):
            continue
        head, has_data, raw = chunk.partition(";data=")
        fields = {k.strip().lower(): v.strip() for k, _, v in (item.partition("=") for item in head.split(";"))}
        data: object = {}
        if has_data:
            try:
                data = json.loads(raw)
            except ValueError:
                data = {}
        index = fields.get("index", "")
        events.append(
            DahuaEvent(
                fields.get("code", ""),
                fields.get("action", ""),
                int(index) if index.isdigit() else None,
                data if isinstance(data, dict) else {},
            )
        )
    return events


def parse_event_fields(text: str) -> list[DahuaEvent]:
    """attachFileProc parts: `Events[0].EventBaseInfo.Code=...` lines, one tree per event index."""
    trees: dict[int, dict] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        match = re.match(r"Events\[(\d+)\]\.(.+)", key)
        if not sep or match is None:
            continue
        tokens = [int(m[2]) if m[2] else m[1] for m in _PATH.finditer(match[2])]
        _assign(trees.setdefault(int(match[1]), {}), tokens, _scalar(value.strip()))
    events = []
    for _, tree in sorted(trees.items()):
        tree = _lists(tree)
        base = tree.pop("EventBaseInfo", {}) if isinstance(tree.get("EventBaseInfo"), dict) else {}
        code = base.get("Code", tree.pop("Code", ""))
        action = base.get("Action", tree.pop("Action", ""))
        index = base.get("Index", tree.pop("Index", None))
        events.append(DahuaEvent(str(code), str(action), index if isinstance(index, int) else None, tree))
    return events


def _scalar(value: str) -> object:
    return int(value) if re.fullmatch(r"-?\d{1,18}", value) else value


def _assign(tree: dict, tokens: list, value: object) -> None:
    node = tree
    for token in tokens[:-1]:
        child = node.get(token)
        if not isinstance(child, dict):
            child = node[token] = {}
        node = child
    if tokens:
        node[tokens[-1]] = value


def _lists(node: object) -> object:
    """{0: a, 1: b} -> [a, b], all the way down (Events[0].Object.BoundingBox[2]=... built as dicts)."""
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(isinstance(k, int) for k in node) and sorted(node) == list(range(len(node))):
        return [node[k] for k in range(len(node))]
    return node


class DahuaReader(PullReader):
    kind = "dahua"
    source: DahuaSource

    def _prepare(self) -> None:
        self._auth = httpx.DigestAuth(self.username, self.password or "") if self.username else None
        self._views: dict[str, ViewProblem] = {}  # view events in progress, by code

    @property
    def heartbeat_s(self) -> int:
        if self.source.mode == "snapshots":
            return min(self.source.heartbeat_s, _MAX_SNAPMANAGER_HEARTBEAT)
        return self.source.heartbeat_s

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.source.timeout_s, read=2.0 * self.heartbeat_s)

    def attach_url(self) -> str:
        source = self.source
        base, codes = self.url.rstrip("/"), ",".join(quote(code, safe="") for code in source.events)
        if source.mode == "snapshots":
            return (
                f"{base}/cgi-bin/snapManager.cgi?action=attachFileProc&channel={source.channel}"
                f"&heartbeat={self.heartbeat_s}&Flags[0]=Event&Events=[{codes}]"
            )
        return f"{base}/cgi-bin/eventManager.cgi?action=attach&codes=[{codes}]&heartbeat={self.heartbeat_s}"

    def _session(self, connection: Connection) -> None:
        silence = 2.0 * self.heartbeat_s
        stalled = PullFailure(f"event stream: no heartbeat for {silence:g}s (stream stalled)", "stalled", None)
        try:
            with connection.stream("GET", self.attach_url(), auth=self._auth, what="event stream") as response:
                try:
                    boundary = boundary_of(response.headers.get("content-type", ""))
                except MultipartError as exc:
                    raise PullFailure(f"event stream: {exc}{_excerpt(response)}") from None
                parser = MultipartStream(boundary, max_part_bytes=self.options.max_picture_bytes)
                self._connected()
                last, waiting = time.monotonic(), None
                for chunk in response.iter_raw():
                    if self._stop.is_set():
                        return
                    parts = parser.feed(chunk)
                    if not parts and time.monotonic() - last > silence:
                        raise stalled  # bytes, but no whole part: as good as silence
                    for part in parts:
                        waiting = self._part(connection, part, waiting)
                    if parts:  # after handling them: an event snapshot fetch is not the device's silence
                        last = time.monotonic()
                    if parser.closed:
                        break
        except httpx.ReadTimeout:
            raise stalled from None
        except MultipartError as exc:
            raise PullFailure(f"event stream: {exc}", counter="decode_errors") from None
        if not self._stop.is_set():
            raise PullFailure("event stream: the device ended the stream", counter=None)

    def _part(self, connection: Connection, part: Part, waiting: list[DahuaEvent] | None) -> list[DahuaEvent] | None:
        """Handle one part; returns the events waiting for their picture (None: no event part came yet)."""
        snapshots = self.source.mode == "snapshots"
        if part.is_heartbeat:
            return waiting
        if part.is_image:
            if snapshots and (waiting is None or waiting):
                self._picture_part(part.body, waiting or [])
            return None
        if len(part.body) > _MAX_TEXT:
            return None
        text = part.text
        try:
            events = parse_event_fields(text) if snapshots and "Events[" in text else parse_event_lines(text)
        except Exception:  # one odd event must not end the stream
            log.warning("camera %s: event part not understood: %r", self.camera_id, text[:200], exc_info=True)
            return waiting
        pictured = []
        for event in events:
            if not snapshots and event.index is not None and event.index != self.source.channel - 1:
                continue  # an NVR's other channel
            if event.code in VIEW_EVENTS:
                self._view_event(event)
            elif snapshots:
                pictured.append(event)
            elif event.action in ("Start", "Pulse"):
                self._fetch_snapshot(connection, event)
        return pictured if snapshots and events else waiting

    def _picture_part(self, data: bytes, events: list[DahuaEvent]) -> None:
        hint = events[0].hint() if events else None
        if hint is not None and len(events) > 1:
            hint["also"] = [e.code for e in events[1:]]
        try:
            picture = self._picture(data, "event picture")
        except PullFailure as failure:
            self._failed(PullFailure(str(failure), "online", failure.counter))  # the stream itself is fine
            return
        self._emit(picture, data, utcnow(), hint)

    def _fetch_snapshot(self, connection: Connection, event: DahuaEvent) -> None:
        source = self.source
        url = f"{self.url.rstrip('/')}/cgi-bin/snapshot.cgi?channel={source.channel}"
        try:
            data = self._fetch_picture(
                connection, url, self._auth, "event snapshot", timeout=httpx.Timeout(source.timeout_s)
            )
            picture = self._picture(data, "event snapshot")
        except Exception as exc:
            failure = describe(exc, "event snapshot", source.timeout_s)
            self._failed(PullFailure(str(failure), "online", failure.counter))  # the event stream still runs
            return
        self._emit(picture, data, utcnow(), event.hint())

    def _view_event(self, event: DahuaEvent) -> None:
        if event.action == "Start":
            self._views[event.code] = VIEW_EVENTS[event.code]
        elif event.action == "Stop":
            self._views.pop(event.code, None)
        else:
            return
        problems = set(self._views.values())
        problem: ViewProblem | None = "black" if "black" in problems else ("covered" if problems else None)
        log.info("camera %s: the device reports %s %s", self.camera_id, event.code, event.action)
        self.state.update(view_problem=problem)


def _excerpt(response: httpx.Response) -> str:
    """The start of a non-stream answer (Dahua says `Error` / `Bad Request!` for an unknown code)."""
    try:
        head = next(response.iter_raw(256), b"")
    except httpx.HTTPError:
        return ""
    text = " ".join(head.decode("utf-8", "replace").split())[:120]
    return f": {text!r}" if text else ""
