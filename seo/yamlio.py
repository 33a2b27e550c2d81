"""YAML reading that remembers where every key came from, with limits, and the `!example` marker.

Values the clinic has not supplied yet (street address, phone, hours, listing IDs) are written
in config as ``!example <value>``: they load as ordinary values, and their key paths are listed
so that `seo check` can show them and publishing can refuse while any remain.

The text is hand-edited and arrives through git from several people, so it is read as hostile:
a safe subset of YAML (plain data, no language-specific tags), composed here from the parser's
events without recursion, with limits on the document size, the nesting depth and the number of
values aliases may add (a 300-byte alias bomb would otherwise expand to billions). A recursive
alias, a complex key (a list or mapping used as a key), a duplicate key, a control character, a
second document or any parser error is one `UserError` naming the file and line. A leading UTF-8
byte order mark (Windows editors) is accepted.

The events come from libyaml's C parser when PyYAML was built with it (about seven times faster
than the pure-Python parser on a large towns.yaml); both parsers give the same result and the
same limits, since everything after the events is this module's own code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from .errors import UserError
from .files import CONTROL, check_text, read_project_text

MAX_BYTES = 16 * 1024 * 1024  # one YAML document (a 10,000-town towns.yaml is about 3 MB)
MAX_DEPTH = 50  # nesting levels (the settings schema needs 6)
MAX_ALIAS_VALUES = 1_000_000  # values added by aliases, counted as if expanded

try:  # libyaml's C parser, when PyYAML was built with it
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    CParser = None


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}"
                for t in ("str", "int", "float", "bool", "null", "timestamp")}
_KINDS = {"int": "an integer", "float": "a number", "bool": "true or false", "null": "null",
          "timestamp": "a date"}
_EXAMPLE = "!example"


@dataclass
class Located:
    """Parsed YAML plus where each key path starts (1-based line) and which paths are examples."""

    data: Any
    file: str
    lines: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    text: str = ""  # the source, as read
    raw: dict[str, str] = field(default_factory=dict)  # key path -> scalar as typed ("39.54800")

    def line_of(self, path: str) -> int | None:
        """Line of `path` or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


class _PyParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python reader, scanner and parser: the events, nothing composed."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


def _join(prefix: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


@dataclass
class _Anchor:
    value: Any
    size: int
    path: str
    examples: list[str]  # example paths inside, relative to `path`


class _Frame:
    """One open mapping or sequence while the events are composed."""

    __slots__ = ("anchor", "container", "examples_from", "key", "key_line", "line", "merge", "path",
                 "size")

    def __init__(self, container: dict | list, path: str, line: int, anchor: str | None,
                 examples_from: int) -> None:
        self.container = container
        self.path, self.line, self.anchor = path, line, anchor
        self.examples_from = examples_from
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merge: list[tuple[dict, int]] = []  # mappings merged in with `<<`, and their line
        self.size = 1


_NO_KEY = object()


class _Composer:
    """Events -> plain Python data, iteratively (no recursion), with every limit enforced."""

    def __init__(self, out: Located, line_offset: int) -> None:
        self.out, self.offset = out, line_offset
        self.resolver = Resolver()
        self.constructor = SafeConstructor()
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: set[str] = set()
        self.aliased = 0  # values added by aliases

    def fail(self, message: str, mark: Any) -> UserError:
        line = mark.line + 1 + self.offset if mark is not None else None
        return UserError(message, file=self.out.file, line=line)

    def compose(self, parser: Any) -> Any:
        parser.get_event()  # StreamStartEvent
        if parser.check_event(StreamEndEvent):
            return {}
        parser.get_event()  # DocumentStartEvent
        stack: list[_Frame] = []
        root: list[Any] = []
        while True:
            event = parser.get_event()
            if isinstance(event, MappingEndEvent | SequenceEndEvent):
                done, size = self._close(stack.pop())
                parent = stack[-1] if stack else None
                if parent is None:
                    root.append(done)
                    break
                self._add(parent, done, size, event)
                continue
            parent = stack[-1] if stack else None
            if isinstance(event, CollectionStartEvent):
                path = self._child_path(parent, event)
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
                line = event.start_mark.line + 1 + self.offset
                self.out.lines.setdefault(path, line)
                tag, examples_from = event.tag, len(self.out.examples)
                if tag == _EXAMPLE:
                    self.out.examples.append(path)
                    tag = None
                is_map = isinstance(event, MappingStartEvent)
                if tag not in (None, "!", _MAP if is_map else _SEQ):
                    raise self.fail(f"unsupported tag {event.tag!r} (plain YAML data only)",
                                    event.start_mark)
                if event.anchor is not None:
                    self.open_anchors.add(event.anchor)
                stack.append(_Frame({} if is_map else [], path, line, event.anchor, examples_from))
                continue
            if isinstance(event, ScalarEvent):
                path = self._child_path(parent, event)
                done, size = self._scalar(event, path, parent), 1
                if event.anchor is not None:
                    self.anchors[event.anchor] = _Anchor(done, 1, path,
                                                         [""] if self.out.examples[-1:] == [path]
                                                         else [])
            elif isinstance(event, AliasEvent):
                path = self._child_path(parent, event)
                done, size = self._alias(event, path)
            else:  # pragma: no cover - the parser sends nothing else inside a document
                raise self.fail(f"unexpected {type(event).__name__}", event.start_mark)
            if parent is None:
                root.append(done)
                break
            self._add(parent, done, size, event)
        if not parser.check_event(StreamEndEvent):
            parser.get_event()  # DocumentEndEvent
            if not parser.check_event(StreamEndEvent):
                event = parser.get_event()
                if isinstance(event, DocumentStartEvent):
                    raise self.fail("more than one YAML document (a second '---')", event.start_mark)
        return root[0]

    def _close(self, frame: _Frame) -> tuple[Any, int]:
        value = frame.container
        for merged, line in frame.merge:  # explicit keys win, then earlier merged mappings
            for k, v in merged.items():
                if k not in value:
                    value[k] = v
                    self.out.lines.setdefault(_join(frame.path, k), line)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            cut = len(frame.path)
            self.anchors[frame.anchor] = _Anchor(
                value, frame.size, frame.path,
                [p[cut:] for p in self.out.examples[frame.examples_from:]])
        return value, frame.size

    def _child_path(self, parent: _Frame | None, event: Any) -> str:
        if parent is None:
            self.out.lines.setdefault("", event.start_mark.line + 1 + self.offset)
            return ""
        if isinstance(parent.container, list):
            path = _join(parent.path, len(parent.container))
            self.out.lines.setdefault(path, event.start_mark.line + 1 + self.offset)
            return path
        if parent.key is _NO_KEY:  # this event is a key: its path is the mapping's own
            if isinstance(event, CollectionStartEvent):
                raise self.fail("a list or mapping used as a key is not supported (complex key)",
                                event.start_mark)
            return parent.path
        return _join(parent.path, parent.key) if parent.key is not _MERGE else parent.path

    def _add(self, parent: _Frame, value: Any, size: int, event: Any) -> None:
        container = parent.container
        parent.size += size
        if isinstance(container, list):
            container.append(value)
            return
        if parent.key is _NO_KEY:  # `value` is a key
            mark = event.start_mark
            if isinstance(value, dict | list | set):
                raise self.fail("a list or mapping used as a key is not supported (complex key)",
                                mark)
            if value is _MERGE:
                parent.key, parent.key_line = _MERGE, mark.line + 1 + self.offset
                return
            if value in container:
                path = _join(parent.path, value)
                raise UserError(f"duplicate key {value!r}", file=self.out.file, key=path,
                                line=mark.line + 1 + self.offset)
            parent.key = value
            parent.key_line = mark.line + 1 + self.offset
            path = _join(parent.path, value)
            self.out.lines[path] = parent.key_line
            return
        if parent.key is _MERGE:
            merged = value if isinstance(value, list) else [value]
            if not all(isinstance(m, dict) for m in merged):
                raise self.fail("`<<` merges a mapping or a list of mappings", event.start_mark)
            parent.merge += [(m, parent.key_line) for m in merged]
        else:
            container[parent.key] = value
        parent.key = _NO_KEY

    def _scalar(self, event: ScalarEvent, path: str, parent: _Frame | None) -> Any:
        tag, value = event.tag, event.value
        is_key = parent is not None and isinstance(parent.container, dict) and parent.key is _NO_KEY
        if not is_key:
            self.out.raw[path] = value  # as typed: `seo check` counts a coordinate's decimals
        if tag == _EXAMPLE:
            if is_key:
                raise self.fail("!example marks a value, not a key", event.start_mark)
            self.out.examples.append(path)
            tag = _STR if event.style in ("'", '"', "|", ">") else \
                self.resolver.resolve(ScalarNode, value, (True, False))
        elif tag is None or tag == "!":
            tag = self.resolver.resolve(ScalarNode, value, event.implicit)
        elif tag not in _SCALAR_TAGS:
            raise self.fail(f"unsupported tag {tag!r} (plain YAML data only)", event.start_mark)
        if tag == _STR:
            if event.style == '"' and CONTROL.search(value):  # written as an escape, e.g. "\0"
                char = CONTROL.search(value).group()  # type: ignore[union-attr]
                raise self.fail(f"control character U+{ord(char):04X} is not allowed",
                                event.start_mark)
            return value
        if tag == _MERGE:
            if not is_key:
                raise self.fail("`<<` is only allowed as a key", event.start_mark)
            return _MERGE
        node = ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ValueError, OverflowError, ConstructorError) as exc:
            kind = _KINDS.get(tag.rsplit(":", 1)[-1], tag)
            reason = _short(str(exc).splitlines()[0], 60) if str(exc) else type(exc).__name__
            raise self.fail(f"cannot read {_short(value)!r} as {kind}: {reason}",
                            event.start_mark) from None

    def _alias(self, event: AliasEvent, path: str) -> tuple[Any, int]:
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(f"alias *{name} refers to a value that contains it (recursive alias)",
                            event.start_mark)
        anchor = self.anchors.get(name)
        if anchor is None:
            raise self.fail(f"alias *{name} has no anchor &{name} before it", event.start_mark)
        self.aliased += anchor.size
        if self.aliased > MAX_ALIAS_VALUES:
            raise self.fail(f"aliases expand to more than {MAX_ALIAS_VALUES:,} values "
                            "(an alias bomb?)", event.start_mark)
        for rel in anchor.examples:
            self.out.examples.append(path + rel)
        return anchor.value, anchor.size


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def parse_yaml(text: str, file: str, *, line_offset: int = 0, pure: bool = False) -> Located:
    """Parse YAML text; every problem becomes a UserError naming the file and line.

    `pure` forces the pure-Python parser (tests run both)."""
    text = text.removeprefix("\ufeff")
    out = Located(data=None, file=file, text=text)
    if len(text) > MAX_BYTES:
        raise UserError(f"larger than {MAX_BYTES // 1024 // 1024} MB", file=file)
    check_text(text, file, line_offset=line_offset)
    parser = (CParser if CParser is not None and not pure else _PyParser)(text)
    try:
        out.data = _Composer(out, line_offset).compose(parser)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else None
        why = " ".join(str(exc.problem or exc.context or "cannot parse").split())
        raise UserError(f"malformed YAML: {why}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"malformed YAML: {str(exc).splitlines()[0]}", file=file) from None
    finally:
        parser.dispose()
    return out


def load_yaml(path: Path, display: str, root: Path | None = None) -> Located:
    """Read and parse a project YAML file (a regular file inside the project, see `seo.files`)."""
    return parse_yaml(read_project_text(path, display, root=root, limit=MAX_BYTES), display)


