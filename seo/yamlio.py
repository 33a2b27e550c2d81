"""YAML reading that remembers where every key came from, and the `!example` marker.

Values the clinic has not supplied yet (street address, phone, hours, listing IDs) are written
in config as ``!example <value>``: they load as ordinary values, and their key paths are listed
so that `seo check` can show them and publishing can refuse while any remain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError


@dataclass
class Located:
    """Parsed YAML plus where each key path starts (1-based line) and which paths are examples."""

    data: Any
    file: str
    lines: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)  # key path -> scalar as typed ("39.54800")

    def line_of(self, path: str) -> int | None:
        """Line of `path` or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


class _Loader(yaml.SafeLoader):
    pass


def _join(prefix: str, key: object) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def _walk(node: yaml.Node, loader: _Loader, path: str, out: Located) -> Any:
    out.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        out.raw[path] = node.value
    if node.tag == "!example":
        out.examples.append(path)
        if isinstance(node, yaml.ScalarNode):
            return _plain_scalar(node, loader)
        node = _retag(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                raise UserError(f"duplicate key {key!r}", file=out.file, key=_join(path, key),
                                line=key_node.start_mark.line + 1)
            out.lines.setdefault(_join(path, key), key_node.start_mark.line + 1)
            result[key] = _walk(value_node, loader, _join(path, key), out)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, loader, _join(path, i), out) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _plain_scalar(node: yaml.ScalarNode, loader: _Loader) -> Any:
    resolved = loader.resolve(yaml.ScalarNode, node.value, (True, False))
    if node.style in ("'", '"'):
        resolved = "tag:yaml.org,2002:str"
    return loader.construct_object(yaml.ScalarNode(resolved, node.value, node.start_mark,
                                                   node.end_mark, node.style), deep=True)


def _retag(node: yaml.Node) -> yaml.Node:
    if isinstance(node, yaml.MappingNode):
        return yaml.MappingNode("tag:yaml.org,2002:map", node.value, node.start_mark, node.end_mark)
    return yaml.SequenceNode("tag:yaml.org,2002:seq", node.value, node.start_mark, node.end_mark)


def parse_yaml(text: str, file: str, *, line_offset: int = 0) -> Located:
    """Parse YAML text; errors become a UserError naming the file and line."""
    out = Located(data=None, file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        out.data = {} if node is None else _walk(node, loader, "", out)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else None
        raise UserError(f"malformed YAML: {exc.problem or exc.context}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"malformed YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    if line_offset:
        out.lines = {k: v + line_offset for k, v in out.lines.items()}
    return out


def load_yaml(path: Path, display: str) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("file not found", file=display) from None
    except UnicodeDecodeError:
        raise UserError("not UTF-8 text", file=display) from None
    return parse_yaml(text, display)
