"""Darknet `.cfg` parser: a list of `[section]`s with `key=value` options, exactly as Darknet reads them.

Only the options the converter needs are interpreted (in network.py); everything else is kept verbatim so
that an unsupported option can be reported by name instead of being silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class DarknetCfgError(ValueError):
    """The .cfg cannot be parsed or uses something this converter does not implement."""


@dataclass
class Section:
    """One `[type]` block; `line` is where it starts, for error messages."""

    type: str
    line: int
    options: dict[str, str] = field(default_factory=dict)

    def _raw(self, key: str) -> str:
        try:
            return self.options[key]
        except KeyError:
            raise DarknetCfgError(f"[{self.type}] at line {self.line}: missing option {key!r}") from None

    def get_int(self, key: str, default: int | None = None) -> int:
        if key not in self.options and default is not None:
            return default
        value = self._raw(key)
        try:
            return int(value)
        except ValueError:
            raise DarknetCfgError(f"[{self.type}] at line {self.line}: {key}={value!r} is not an integer") from None

    def get_float(self, key: str, default: float | None = None) -> float:
        if key not in self.options and default is not None:
            return default
        value = self._raw(key)
        try:
            return float(value)
        except ValueError:
            raise DarknetCfgError(f"[{self.type}] at line {self.line}: {key}={value!r} is not a number") from None

    def get_str(self, key: str, default: str | None = None) -> str:
        if key not in self.options and default is not None:
            return default
        return self._raw(key)

    def get_ints(self, key: str, default: list[int] | None = None) -> list[int]:
        """A comma-separated list (`layers = -1, 8`, `mask = 3,4,5`); empty items are skipped like Darknet."""
        if key not in self.options and default is not None:
            return list(default)
        value = self._raw(key)
        try:
            return [int(item) for item in value.split(",") if item.strip()]
        except ValueError:
            raise DarknetCfgError(
                f"[{self.type}] at line {self.line}: {key}={value!r} is not a list of integers"
            ) from None


def parse_cfg_text(text: str) -> list[Section]:
    """Parse cfg text: `#`/`;` comments, blank lines and spaces around `=` are ignored, as in Darknet."""
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise DarknetCfgError(f"line {number}: malformed section header {raw!r}")
            sections.append(Section(type=line[1:-1].strip().lower(), line=number))
            continue
        if "=" not in line:
            raise DarknetCfgError(f"line {number}: expected key=value, got {raw!r}")
        if not sections:
            raise DarknetCfgError(f"line {number}: option before the first [section]")
        key, value = (part.strip() for part in line.split("=", 1))
        sections[-1].options[key] = value
    if not sections or sections[0].type not in {"net", "network"}:
        raise DarknetCfgError("a Darknet cfg must start with a [net] section")
    return sections


def parse_cfg(path: Path) -> list[Section]:
    """Parse a .cfg file; the first section is [net], the rest are the layers in order."""
    return parse_cfg_text(Path(path).read_text(encoding="utf-8"))
