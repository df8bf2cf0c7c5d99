"""Cross-references of the site file, checked on the raw data so they are reported with the field errors.

Why on the raw data: pydantic runs a model's own checks only once all its fields are valid, so a typo in one
zone used to hide an unknown compound elsewhere until the next run. These checks read what the file says
(skipping what is not even the right shape: the field errors already name that) and return (path, message)
pairs. The rules a single model checks for itself are written once here and called from the model too, so
either finding reads the same and is listed once.
"""

from __future__ import annotations

from collections.abc import Iterator

from service.config.devices import normal_mac
from service.config.duties import AgencyKind
from service.config.site_problems import Loc

Found = Iterator[tuple[Loc, str]]

MANAGER_MISSING = "a compound needs a property_company, or a township that manages it"
COMPOUND_AGENCIES = ("property_company", "police_station", "township")  # field name == the agency kind it names
PULLED_SOURCES = ("rtsp", "snapshot", "dahua")


def source_section_missing(source: object, present: set[str]) -> str | None:
    """A pulled camera without the section that says where to pull from."""
    if source in PULLED_SOURCES and source not in present:
        article = "an" if source == "rtsp" else "a"  # "an R-T-S-P section"
        return f"source {source!r} needs {article} {source!r} section with at least a url"
    return None


def _entries(data: object, key: str) -> list[tuple[int, dict]]:
    """(index, entry) of a list in the file, only the entries that are mappings."""
    items = data.get(key) if isinstance(data, dict) else None
    return [(i, e) for i, e in enumerate(items) if isinstance(e, dict)] if isinstance(items, list) else []


def _id(entry: dict, key: str = "id") -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _known(ids: object) -> str:
    listed = sorted(str(i) for i in ids)
    return ", ".join(listed) if listed else "none defined"


def _repeats(section: Loc, entries: list[tuple[int, dict]], what: str, key: str = "id") -> Found:
    first: dict[str, int] = {}
    for index, entry in entries:
        value = _id(entry, key)
        if value is None:
            continue
        if value in first:
            yield (*section, index, key), f"{what} {value!r} repeats (first at {_place(section, first[value])})"
        else:
            first[value] = index


def _place(section: Loc, index: int) -> str:
    return f"{section[-1]}[{index}]"


def _compounds(data: dict, agencies: dict[str, object]) -> Found:
    for index, compound in _entries(data, "compounds"):
        if compound.get("property_company") is None and compound.get("township") is None:
            yield ("compounds", index), MANAGER_MISSING
        for field in COMPOUND_AGENCIES:
            ref = compound.get(field)
            if not isinstance(ref, str):
                continue
            if ref not in agencies:
                of_kind = [a for a, kind in agencies.items() if kind == field]
                message = f"{ref!r} is not a known agency (known {field} agencies: {_known(of_kind)})"
                yield ("compounds", index, field), message
            elif agencies[ref] in set(AgencyKind) and agencies[ref] != field:
                yield ("compounds", index, field), f"{ref!r} is a {agencies[ref]}, not a {field}"


def _device_key(device: dict) -> str | None:
    """Which device and channel, as `Site` compares them (MACs in one spelling)."""
    mac = device.get("mac")
    if isinstance(mac, str):
        try:
            mac = normal_mac(mac)
        except ValueError:
            return None  # a field error already
    who = mac or device.get("serial") or device.get("address")
    return f"{device.get('vendor', 'hikvision')}/{who}/channel {device.get('channel', 1)}" if who else None


def _cameras(data: dict, compounds: set[str]) -> Found:
    cameras = _entries(data, "cameras")
    yield from _repeats(("cameras",), cameras, "camera id")
    devices: dict[str, str] = {}
    logins: dict[str, str] = {}
    for index, camera in cameras:
        name = _id(camera) or f"cameras[{index}]"
        ref = camera.get("compound")
        if isinstance(ref, str) and ref not in compounds:
            yield ("cameras", index, "compound"), f"{ref!r} is not a known compound (known: {_known(compounds)})"
        present = {s for s in PULLED_SOURCES if camera.get(s) is not None}
        missing = source_section_missing(camera.get("source", "push"), present)
        if missing:
            yield ("cameras", index), missing
        yield from _repeats(("cameras", index, "zones"), _entries(camera, "zones"), "zone id")
        device = camera.get("device")
        key = _device_key(device) if isinstance(device, dict) else None
        if key is not None:
            if key in devices:
                yield ("cameras", index, "device"), f"device {key} is already camera {devices[key]!r}"
            devices.setdefault(key, name)
        ftp = camera.get("ftp")
        login = _id(ftp, "username") if isinstance(ftp, dict) else None
        if login is not None:
            if login in logins:
                message = f"FTP username {login!r} is already camera {logins[login]!r}"
                yield ("cameras", index, "ftp", "username"), message
            logins.setdefault(login, name)


def _channels(data: dict, compounds: set[str]) -> Found:
    """A channel limited to a compound the site does not have would silently never deliver."""
    for index, agency in _entries(data, "agencies"):
        for number, channel in _entries(agency, "channels"):
            limited = channel.get("compounds")
            for k, ref in enumerate(limited if isinstance(limited, list) else []):
                if isinstance(ref, str) and ref not in compounds:
                    loc = ("agencies", index, "channels", number, "compounds", k)
                    yield loc, f"{ref!r} is not a known compound (known: {_known(compounds)})"


def _campaign(data: dict, agencies: dict[str, object]) -> Found:
    campaign = data.get("campaign")
    recipients = campaign.get("recipients") if isinstance(campaign, dict) else None
    county = recipients.get("county") if isinstance(recipients, dict) else None
    for k, ref in enumerate(county if isinstance(county, list) else []):
        if isinstance(ref, str) and ref not in agencies:
            loc = ("campaign", "recipients", "county", k)
            yield loc, f"{ref!r} is not a known agency (known: {_known(agencies)})"


def reference_problems(data: object) -> list[tuple[Loc, str]]:
    """Every cross-reference problem of the raw site data: repeated ids, unknown or wrong-kind references."""
    if not isinstance(data, dict):
        return []
    agency_entries = _entries(data, "agencies")
    agencies = {a["id"]: a.get("kind") for _, a in agency_entries if _id(a)}
    compounds = {c["id"] for _, c in _entries(data, "compounds") if _id(c)}
    found = [
        *_repeats(("agencies",), agency_entries, "agency id"),
        *_repeats(("compounds",), _entries(data, "compounds"), "compound id"),
        *_compounds(data, agencies),
        *_cameras(data, compounds),
        *_channels(data, compounds),
        *_campaign(data, agencies),
    ]
    return found
