"""What is wrong with a site file, each problem with its path, and the one error that carries them all.

Why one list: a person fixing a site file wants every mistake in one run, each where it is
(`cameras[2].compound (camera cam-gate): 'x' is not a known compound (known: a, b)`), not one batch per run.
Field errors (pydantic), cross-references and YAML problems all become `Problem`s; `SiteConfigError` lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

Loc = tuple[str | int, ...]

_LABELLED = {"agencies": "agency", "compounds": "compound", "cameras": "camera", "zones": "zone"}
"""Lists whose entries are named by their id next to the path: `cameras[2] (camera cam-gate)`."""

_PREFIXES = ("Value error, ", "Assertion failed, ")


@dataclass(frozen=True, order=True)
class Problem:
    """One problem (or warning) at one place of the site file."""

    path: str
    message: str
    label: str = ""

    def __str__(self) -> str:
        where = f"{self.path} ({self.label})" if self.label else self.path
        return f"{where}: {self.message}"


class SiteConfigError(ValueError):
    """A site file that cannot be used; `problems` holds every problem, the message lists them one a line.

    `SiteConfigError("text")` still makes a one-line error (a camera missing from the site, a missing file).
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems)

    @classmethod
    def listing(cls, origin: str, problems: Sequence[Problem]) -> SiteConfigError:
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        lines = "\n  ".join(str(p) for p in problems)
        return cls(f"{origin} is invalid ({count}):\n  {lines}", problems)


def format_path(loc: Loc) -> str:
    """('cameras', 2, 'zones', 0, 'polygon') -> 'cameras[2].zones[0].polygon'; pydantic's own parts dropped."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"function-after", "function-before"} or "[" in part:
            continue  # union member and validator names pydantic adds, e.g. 'function-after[_masks()]'
        else:
            out += f".{part}" if out else part
    return out or "(site)"


def _label(loc: Loc, data: object) -> str:
    """'camera cam-gate, zone lane' for a path through entries whose id the raw data has."""
    names: list[str] = []
    node = data
    for part, following in zip(loc, (*loc[1:], None), strict=False):
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
            if part in _LABELLED and isinstance(following, int) and isinstance(node, list):
                entry = node[following] if following < len(node) else None
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    names.append(f"{_LABELLED[part]} {entry['id']}")
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part] if part < len(node) else None
        else:
            break
    return ", ".join(names)


def problem_at(loc: Loc, message: str, data: object) -> Problem:
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return Problem(format_path(loc), message, _label(loc, data))


def _order_key(loc: Loc, data: object) -> tuple:
    """Where `loc` is in the file: keys in the order the file has them, list entries by index."""
    key: list[tuple[int, int]] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            key.append((0, list(node).index(part)))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            key.append((0, part))
            node = node[part]
        else:
            key.append((1, 0))  # a missing field or pydantic's own part: after what the file has
            node = None
    return tuple(key)


def collect(located: Iterable[tuple[Loc, str]], data: object) -> list[Problem]:
    """Problems in file order, each once (a rule checked by the model and again on the raw data is one)."""
    seen: dict[Problem, tuple] = {}
    for loc, message in located:
        problem = problem_at(loc, message, data)
        seen.setdefault(problem, _order_key(loc, data))
    return sorted(seen, key=lambda p: seen[p])


def validation_problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    """pydantic's errors as (loc, message), with plainer words for a file that is not a mapping at all."""
    out: list[tuple[Loc, str]] = []
    for error in exc.errors():
        loc, message = tuple(error["loc"]), error["msg"]
        if not loc and error["type"] == "model_type":
            empty = error.get("input") is None
            message = "the site file is empty" if empty else "the site file must be a mapping"
            message += ": it needs agencies, compounds and cameras"
        out.append((loc, message))
    return out
