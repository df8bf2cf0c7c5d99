"""What an uploaded picture's path says: when it was taken, on which channel, for which event.

Why parse names at all: an FTP upload carries nothing but the path. Devices name their pictures after the moment
and the event, in their own local time (no offset), so the name is the only capture time there is. Shapes
devices actually produce (custom text before the Hikvision part is allowed, as its "picture name prefix" adds):

* Hikvision cameras and NVRs: `192.168.1.64_01_20261201153012345_FIELD_DETECTION.jpg`, i.e.
  `<ip>_<channel>_<YYYYMMDDHHMMSS[mmm]>_<EVENT>.jpg`; scheduled captures end in `_TIMING`, others in
  `_MOTION_DETECTION`, `_LINE_CROSSING_DETECTION`, `_REGION_ENTRANCE`...; older firmware has 14 digits.
* Dahua (and Amcrest, Lorex and other OEMs): the time is spread over folders,
  `<serial>/2026-12-01/001/jpg/15/30/12[M][0@0][0].jpg` (date, three-digit channel, hour, minute, then the
  second and the event letter: R regular/scheduled, M motion, A alarm input); newer firmware writes
  `.../jpg/15/30.12[M]...` or `.../jpg/15/15.30.12[M]...`, Lorex `.../2026-12-01/pic_001/15.30.12[R]...`.
* anything else with a 14 or 17 digit stamp (`gate_20261201153012.jpg`) or a separated one
  (`2026-12-01_15-30-12.jpg`): the time only.

Pure: nothing here touches the disk, the clock or the metrics. The caller falls back to the upload time (and
counts it) when `captured_at` is None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

_HIKVISION = re.compile(
    r"(?:(?<![\d.])(?P<ip>\d{1,3}(?:\.\d{1,3}){3})_|(?:^|_))"
    r"(?P<channel>\d{1,3})_(?P<stamp>\d{17}|\d{14})"
    r"(?:_(?P<event>[A-Za-z][A-Za-z0-9_]*?))?(?:_\d{1,4})?$"
)
_DATE_FOLDER = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DAHUA_CHANNEL = re.compile(r"^(?:pic_)?(\d{3})$", re.IGNORECASE)
_DAHUA_FILE = re.compile(r"^(?P<time>\d{1,2}(?:\.\d{1,2}){0,2})(?:-[\d.]+)?\[(?P<event>[A-Za-z0-9]*)\]")
_NUMBER_FOLDER = re.compile(r"^\d{1,2}$")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?(?!\d)")
_SEPARATED = re.compile(r"(?<!\d)(\d{4})[-_.](\d{2})[-_.](\d{2})[T _.-](\d{2})[-_:.](\d{2})[-_:.](\d{2})(?!\d)")


@dataclass(frozen=True)
class UploadName:
    """What the name told: `captured_at` aware UTC (None: the name gives no usable time)."""

    captured_at: datetime | None
    event: str | None = None  # as the device wrote it: FIELD_DETECTION, TIMING, M, R...
    channel: int | None = None
    style: str | None = None  # hikvision | dahua: whose naming it follows (None: a time only, or nothing)


def parse_upload_name(path: str, zone: ZoneInfo) -> UploadName:
    """Read `path` (relative to the login's folder, / separated) as the device named it; times in `zone`."""
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("/", ".", "..")]
    if not parts:
        return UploadName(None)
    stem = parts[-1].rsplit(".", 1)[0]
    return _hikvision(stem, zone) or _dahua(parts, zone) or _any_stamp(stem, parts[:-1], zone)


def _hikvision(stem: str, zone: ZoneInfo) -> UploadName | None:
    match = _HIKVISION.search(stem)
    if match is None:
        return None
    digits = match["stamp"]
    when = _local(zone, *_split(digits[:14]), int(digits[14:] or 0))
    if when is None:
        return None
    return UploadName(when, match["event"], int(match["channel"]), "hikvision")


def _dahua(parts: list[str], zone: ZoneInfo) -> UploadName | None:
    found = _DAHUA_FILE.match(parts[-1])
    dated = [(i, m) for i, part in enumerate(parts[:-1]) if (m := _DATE_FOLDER.match(part))]
    if found is None or not dated:
        return None
    index, date = dated[-1]
    after = parts[index + 1 : -1]
    channel = None
    if after and (number := _DAHUA_CHANNEL.match(after[0])):
        channel, after = int(number[1]), after[1:]
    if after and after[0].lower() in ("jpg", "jpeg", "pic"):
        after = after[1:]
    in_name = [int(n) for n in found["time"].split(".")]
    in_folders = [int(f) for f in after if _NUMBER_FOLDER.match(f)]
    clock = in_name if len(in_name) == 3 else in_folders[len(in_folders) - (3 - len(in_name)) :] + in_name
    if len(clock) != 3:
        return None
    when = _local(zone, *(int(n) for n in date.groups()), *clock)
    if when is None:
        return None
    return UploadName(when, found["event"] or None, channel, "dahua")


def _any_stamp(stem: str, folders: list[str], zone: ZoneInfo) -> UploadName:
    for text in (stem, "/".join(folders)):
        for pattern in (_COMPACT, _SEPARATED):
            for match in pattern.finditer(text):
                numbers = [int(n) for n in match.groups() if n is not None]
                when = _local(zone, *numbers[:6], numbers[6] if len(numbers) > 6 else 0)
                if when is not None:
                    return UploadName(when)
    return UploadName(None)


def _split(digits: str) -> tuple[int, ...]:
    return tuple(int(digits[a:b]) for a, b in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14)))


def _local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int, second: int, ms: int = 0
) -> datetime | None:
    """The device's wall-clock reading in the site's zone, as UTC; None for a date that does not exist."""
    if not 2000 <= year <= 2099:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, ms * 1000, tzinfo=zone).astimezone(UTC)
    except ValueError:
        return None
