"""A hazard's history in the reader's language: structured rows rendered with names, not ids.

The writer stores each machine-written event as an action with `params` (service/store/hazard_writer.py);
here `history.<action>` of the catalogue says it, with agency, zone and camera names, site time and
durations filled in. A row without params (older rows, a person's own note) shows its note as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from service.locale import Translator, catalogue
from service.store import models as m

Names = dict[str, dict[str, str]]
LABELS = {
    "reason": "reason",
    "source": "source",
    "status": "health",
    "stage": "history.stage",
    "why": "history.why",
    "undone": "action",
}
"""Parameters that are codes, and the catalogue prefix that names them."""


@dataclass(frozen=True)
class HistoryWords:
    """What rendering needs from the page: the language, display names and the site's clock."""

    lang: str
    t: Translator
    names: Names
    when: Callable[[datetime | None, bool], str]
    duration: Callable[[float], str]

    def label(self, prefix: str, value: object) -> str:
        return catalogue(self.lang).get(f"{prefix}.{value}", str(value))

    def agency(self, agency_id: str) -> str:
        return self.names["agency"].get(agency_id, agency_id)


def actor_name(actor: str, words: HistoryWords) -> str:
    """`system:escalation` -> "系统（升级）"; `police:ps-chengguan` -> "派出所 城关派出所"; others as written."""
    if actor == "system" or actor.startswith("system:"):
        part = actor.partition(":")[2]
        return words.t("actor.system") + (f" ({words.label('actor', part)})" if part else "")
    role, _, name = actor.partition(":")
    if not name:
        return words.label("actor", actor)
    return f"{words.label('role', role)} {words.agency(name)}"


def _values(params: dict, hazard: m.HazardEvent, words: HistoryWords) -> dict[str, str]:
    """Each parameter as a person reads it."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if key.endswith("_at") and isinstance(value, str):
            out[key] = words.when(datetime.fromisoformat(value), False)
        elif key.endswith("_s") and isinstance(value, int | float):
            out[key] = words.duration(float(value))
        elif key == "agencies":
            out[key] = "、".join(words.agency(a) for a in value) if value else words.t("history.nobody")
        elif key == "agency":
            out[key] = words.agency(str(value))
        elif key == "zone":
            out[key] = words.names["zone"].get(f"{hazard.camera_id}/{value}", str(value))
        elif key in ("severity", "from", "to"):
            out[key] = words.label("severity", value)
        elif key == "category":
            out[key] = words.label("category", value)
        elif key in LABELS:
            out[key] = words.label(LABELS[key], value)
        elif isinstance(value, float):
            out[key] = f"{value:g}"
        else:
            out[key] = str(value)
    return out


def _key(action: str, params: dict) -> str:
    """The catalogue key of an event: some actions read differently by what they were about."""
    if action == "suspected":
        return "history.suspected"
    if action == "opened":
        for marker, variant in (("down_s", "offline"), ("location", "inspection"), ("dwell_s", "camera")):
            if marker in params:
                return f"history.opened_{variant}"
    if action == "escalated" and params.get("stage") == "major":
        return "history.escalated_major"
    return f"history.{action}"


def describe(entry: m.HazardHistory, hazard: m.HazardEvent, words: HistoryWords) -> str:
    """The sentence under the action's name."""
    if entry.params is None:
        return entry.note
    messages = catalogue(words.lang)
    text = str(entry.params.get("text") or "").strip()
    key = _key(entry.action, entry.params)
    if key not in messages:
        return text or entry.note
    values = _Missing(_values({k: v for k, v in entry.params.items() if k != "text"}, hazard, words))
    sentence = messages[key].format_map(values)
    if "clear_width_m" in entry.params and entry.action != "severity":
        sentence += words.t("history.semicolon") + messages["history.width"].format_map(values)
    if "second_look" in entry.params and entry.action != "suspected":
        sentence += words.t("history.semicolon") + messages["history.second_look"].format_map(values)
    return f"{sentence}: {text}" if text else sentence


class _Missing(dict):
    """A parameter an old row lacks shows as a dash rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return "-"


def history_rows(hazard: m.HazardEvent, words: HistoryWords) -> list[dict]:
    """Rows for the hazard page, oldest first: when (capture time for frame events), who, what, detail."""
    rows = []
    for entry in hazard.history:
        rows.append(
            {
                "at": entry.captured_at or entry.at,
                "recorded_at": entry.at if entry.captured_at else None,
                "actor": actor_name(entry.actor, words),
                "action": entry.action,
                "from": entry.from_status,
                "to": entry.to_status,
                "note": describe(entry, hazard, words),
            }
        )
    return rows
