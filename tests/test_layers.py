"""The package's shape holds: no import cycles, layers import only downward, files stay readable in one sitting.

Reads `service/` as text (ast), so it checks what the code says, not what one run happened to import.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[1] / "service"
MAX_LINES, MAX_PIPELINE_LINES = 400, 250
COMPOSITION_ROOTS = ("cli",)  # the command line may build and serve the whole app
FORBIDDEN = {
    "hazards": ("store", "api", "web", "delivery", "auth", "actions"),  # pure logic over time
    "store": ("api", "web", "delivery", "actions", "auth"),  # the store does not reach up
    "actions": ("api", "web"),
    "delivery": ("api", "web", "actions"),
    "vision": ("hazards", "scene", "store", "delivery", "api", "web", "actions"),
}


def _modules() -> dict[str, Path]:
    files = [p for p in SERVICE.rglob("*.py") if "migrations" not in p.parts]
    names = {}
    for path in files:
        parts = list(path.relative_to(SERVICE.parent).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the service modules it imports (at any depth of the file, deferred imports included)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: climb (level - 1) packages from this module's own
                    above = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*above, base]).strip(".")
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH = _imports(_modules())


def test_no_import_cycles() -> None:
    try:
        tuple(TopologicalSorter(GRAPH).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def _violations(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in sorted(graph.items()):
        layer = _layer(module)
        if layer in COMPOSITION_ROOTS:
            continue
        for target in sorted(targets):
            other = _layer(target)
            if other == "api" and layer != "api":
                wrong.append(f"{module} imports {target} (only api/ imports service.api)")
            elif other == "web" and layer != "web" and module != "service.api.app":
                wrong.append(f"{module} imports {target} (only web/ and the app factory import service.web)")
            elif other in FORBIDDEN.get(layer, ()):
                wrong.append(f"{module} imports {target} ({layer}/ may not import {other}/)")
    return wrong


def test_layers_import_only_downward() -> None:
    assert _violations(GRAPH) == []


def test_a_reaching_import_is_caught() -> None:
    """The rules bite: the store reaching up into delivery, or the web into the API, is reported."""
    bad = {"service.store.models": {"service.delivery.outbox"}, "service.web.pages": {"service.api.app"}}
    assert len(_violations(bad)) == 2


def test_files_stay_readable_in_one_sitting() -> None:
    sizes = {path: sum(1 for _ in path.open(encoding="utf-8")) for path in _modules().values()}
    too_long = {str(p.relative_to(SERVICE.parent)): n for p, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split by responsibility: {too_long}"
    assert sizes[SERVICE / "pipeline.py"] <= MAX_PIPELINE_LINES, "pipeline.py is the wiring, nothing more"


def test_the_check_sees_real_imports() -> None:
    """Guard against a check that passes because it reads nothing."""
    assert "service.store.hazard_writer" in GRAPH["service.pipeline"] | GRAPH["service.camera_hazards"]
    assert "service.actions.hazards" in GRAPH["service.api.routes.hazards"]
    assert "service.actions.hazards" in GRAPH["service.web.routes.hazard"]
