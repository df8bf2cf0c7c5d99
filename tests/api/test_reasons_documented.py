"""The README's table of error reasons lists every reason the code can answer, and nothing it no longer does.

Reasons are read from the source (Python's own parser, no import): the `reason` argument of every refusal
(`Rejection`, `Open311Error`, the domain errors of service/actions, the image and device-notification errors
the routes pass on, the text guard's `_refuse`, SceneBlock), class-level `reason = "..."` defaults, `reason`
variables and `{"reason": ..., "message": ...}` literals, the counted frame refusals (`metrics.reject(...)`)
and the defaults of service/api/errors.py. A new reason fails this test until the README documents it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from service.api.errors import DEFAULT_REASONS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
REASON_FIRST = {"ImageRejectedError", "AlertRejectedError", "SceneBlock", "reject"}
"""Constructors and calls whose first positional argument is the reason."""
REASON_SECOND = {"Rejection", "Open311Error", "ActionError", "NotFound", "Forbidden", "Conflict", "Invalid", "Gone"}
REASON_SECOND |= {"TooLarge", "Unavailable", "MediaRejected", "RateLimited"}
"""(status, reason, ...) and (message, reason): the second positional argument."""
REASON_FOURTH = {"_refuse"}  # the text guard: (send, message, status, reason)


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _strings(node: ast.AST | None) -> list[str]:
    """A constant string, or both branches of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _reasons_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _callee(node)
            index = 0 if name in REASON_FIRST else 1 if name in REASON_SECOND else 3 if name in REASON_FOURTH else None
            if index is None or (name == "reject" and not isinstance(node.func, ast.Attribute)):
                continue
            if len(node.args) > index:
                found.update(_strings(node.args[index]))
            found.update(s for k in node.keywords if k.arg == "reason" for s in _strings(k.value))
        elif isinstance(node, ast.Dict) and {"reason", "message"} <= {s for k in node.keys for s in _strings(k)}:
            pairs = zip(node.keys, node.values, strict=True)
            found.update(s for k, v in pairs if _strings(k) == ["reason"] for s in _strings(v))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "reason" for t in node.targets):
            found.update(_strings(node.value))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in REASON_FOURTH:
            args = node.args.args[-len(node.args.defaults) :] if node.args.defaults else []
            defaults = zip(args, node.args.defaults, strict=True)
            found.update(s for a, d in defaults if a.arg == "reason" for s in _strings(d))
    return found


def reasons_in_code() -> set[str]:
    found = set(DEFAULT_REASONS.values())
    for path in (ROOT / "service").rglob("*.py"):
        found |= _reasons_in(ast.parse(path.read_text(encoding="utf-8")))
    return found


def reasons_in_readme() -> set[str]:
    """The backticked codes in the second column of the README's table under '### Errors'."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n### Errors\n", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[2] for line in section.splitlines() if re.match(r"\|\s*(\d{3}|counted)", line)]
    return {code for row in rows for code in re.findall(r"`([a-z_]+)`", row)}


def test_the_extractor_sees_every_kind_of_source() -> None:
    code = reasons_in_code()
    # one from each source: Rejection, ActionError keyword and positional, class default, image errors, device
    # errors, the text guard's default, dict literals in deps, an `if` expression, SceneBlock, counted frames
    expected = {"bad_captured_at", "bad_boxes", "bad_week", "not_found", "truncated", "bad_xml", "bad_text"}
    expected |= {"invalid_key", "static_objects_off", "object_in_zone", "duplicate", "method_not_allowed", "csrf"}
    assert expected <= code, expected - code


def test_the_readme_lists_every_reason_and_only_those() -> None:
    code, readme = reasons_in_code(), reasons_in_readme()
    assert code - readme == set(), f"reasons the code answers that the README's table does not list: {code - readme}"
    assert readme - code == set(), f"reasons in the README's table that the code never answers: {readme - code}"
