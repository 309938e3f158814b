"""YAML with line numbers: every key and list item of a file keeps the line it was written on.

``read_yaml`` composes the document into nodes (PyYAML's ``start_mark``) and builds plain Python
data beside a map from each path (a tuple of keys and list indexes) to its line, so that a problem
found much later (an unknown column inside an expression) can still name its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from transform.problems import Problems

__all__ = ["Path_", "YamlDoc", "read_yaml"]

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: its data and the line of every path in it."""

    file: Path
    data: Any
    lines: dict[Path_, int]

    def line(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest written ancestor."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


def read_yaml(path: Path, problems: Problems) -> YamlDoc | None:
    """Parse ``path``; syntax errors and duplicate keys go to ``problems`` (then ``None``)."""
    text = path.read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problems.add(path, line, "yaml", f"invalid YAML: {exc.problem or exc}")
        return None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is None:
        return YamlDoc(path, {}, {(): 1})
    before = len(problems)
    data = _build(node, (), lines, path, problems, loader)
    if len(problems) > before:
        return None
    return YamlDoc(path, data, lines)


def _build(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    file: Path,
    problems: Problems,
    loader: yaml.SafeLoader,
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.add(file, line, _dotted(path), "a key must be a plain value")
                continue
            # Keys are names: keep them as written (YAML 1.1 would read ``on`` as true).
            skey = str(key_node.value)
            if skey in out:
                problems.add(file, line, _dotted((*path, skey)), "duplicate key")
                continue
            lines[(*path, skey)] = line
            out[skey] = _build(value_node, (*path, skey), lines, file, problems, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_build(item, (*path, index), lines, file, problems, loader))
        return items
    return loader.construct_object(node)


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path) or "(document)"
