"""Reading the site file's YAML: a key written twice in one mapping is refused, with its lines and path.

Why hand-written: PyYAML has no option for it, and its SafeLoader keeps the last of two equal keys without a
word, so a camera given `compound:` twice silently belongs to the second one. `UniqueKeyLoader` is SafeLoader
with one check added where mappings are built; merge keys (`<<: *defaults`) may still be overridden, as YAML
intends.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from service.config.site_problems import Loc, SiteConfigError, collect

MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that notes every key repeated within one mapping (all of them, not only the first)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated: list[tuple[MappingNode, Node, int]] = []  # (mapping, key node, line of the first)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:  # type: ignore[override]
        first_line: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # SafeLoader refuses an unhashable key itself, with its own message
            if key in first_line:
                self.repeated.append((node, key_node, first_line[key]))
            else:
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _loc_of(root: Node, target: MappingNode) -> Loc:
    """Where a mapping node is in the file (('cameras', 1)), found by walking down from the document's root."""
    stack: list[tuple[Node, Loc]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, loc = stack.pop()
        if node is target:
            return loc
        if id(node) in seen:
            continue  # an alias already walked
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append((value, (*loc, key.value if isinstance(key, ScalarNode) else "?")))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(node.value))
    return ()


def parse_yaml(text: str, origin: str) -> object:
    """The YAML document in `text`; SiteConfigError listing every repeated key, or saying why it is not YAML."""
    loader = UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise SiteConfigError(f"{origin} is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if loader.repeated:
        located = [
            (
                (*_loc_of(root, mapping), str(key.value)),
                f"line {key.start_mark.line + 1}: key {key.value!r} written twice in one mapping "
                f"(first on line {first}); YAML would silently keep only the last one",
            )
            for mapping, key, first in loader.repeated
        ]
        raise SiteConfigError.listing(origin, collect(located, data))
    return data


def read_site_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SiteConfigError(f"site file not found: {path}") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise SiteConfigError(f"{path} cannot be read as a UTF-8 text file: {exc}") from None
    return parse_yaml(text, str(path))
