"""The strict YAML reader: libyaml's event stream turned into plain values with positions.

This is the only module that imports PyYAML. It accepts a deliberately small YAML: one
document, YAML 1.2 core scalars (no implicit dates, no sexagesimal numbers, no `yes`/`no`
booleans), string keys, and no duplicate keys, tags, anchors, aliases or tabs outside quoted
strings, nested at most MAX_DEPTH deep. Values are built straight from the event stream with
an explicit stack, so every node is checked before it is used and nothing is expanded or
recursed into. libyaml's complaints are reworded for calendar authors, each at its position.
Reading files and checking their size and encoding is `runner.calendar.files`'s job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from runner.calendar.positions import TABS, Position, byte_place, tab_problems
from runner.errors import Problem

Path_ = tuple[str | int, ...]

MAX_DEPTH = 64
NO_REFERENCES = "anchors and aliases are not allowed in a calendar; write the value out"
DEEP = f"nested deeper than {MAX_DEPTH} levels"

_TOKEN_NAME = re.compile(r"<([a-z ]+)>")

_KEYWORDS: dict[str, Any] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **{sign + dot: math.inf for sign in ("", "+") for dot in (".inf", ".Inf", ".INF")},
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
_NUMBER_START = frozenset("0123456789+-.")
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


@dataclass(frozen=True)
class Parsed:
    """What the reader made of one file: plain data with positions, and every problem found."""

    root: Any
    positions: Mapping[Path_, Position]
    key_positions: Mapping[Path_, Position]
    problems: tuple[Problem, ...]
    empty: bool  # no document at all, and no other problem to explain it


def parse(raw: bytes, file: str) -> Parsed:
    """Read UTF-8 YAML bytes (already checked for size and encoding) strictly."""
    builder, until = _Builder(file), len(raw)
    try:
        builder.feed(yaml.parse(raw, Loader=yaml.CSafeLoader))
    except yaml.MarkedYAMLError as error:
        until = _index(error.problem_mark)
        deep = builder.too_deep(raw, until) if "nesting depth" in str(error.problem) else None
        builder.problems.append(deep or _syntax_problem(error, raw, file))
    except yaml.YAMLError as error:  # reader errors; the encoding check should prevent them
        builder.problems.append(Problem(file, 1, 1, message=f"unreadable YAML: {error}"))
    empty = builder.documents == 0 and not builder.problems
    # Tokenizing again to find quoted text is only worth it when there is a tab to place.
    quoted = _quoted_spans(raw) if b"\t" in raw[: until + 1] else []
    problems = (*builder.problems, *tab_problems(raw, file, until, quoted))
    return Parsed(builder.root, builder.positions, builder.key_positions, problems, empty)


def top_keys(raw: bytes) -> frozenset[str] | None:
    """The top-level keys of any YAML text, read leniently (anchors, tags and all, as other
    tools write them): the empty set when the top is not a mapping, None when it is not YAML
    at all. Used only to tell a calendar from another tool's YAML file."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(raw, Loader=loader)  # a safe loader: builds plain data only
    except (yaml.YAMLError, ValueError):
        return None
    return frozenset(str(k) for k in data) if isinstance(data, dict) else frozenset()


def _resolve(text: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema; anything else stays text."""
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    if text[0] not in _NUMBER_START:
        return text
    if _INT.fullmatch(text):
        return int(text)  # ValueError past Python's digit limit; the builder reports it
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    return float(text) if _FLOAT.fullmatch(text) else text


def _mark(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _index(mark: Any) -> int:
    return int(mark.index) if mark is not None else 0


class _Stop(Exception):
    """The rest of the file cannot be read meaningfully; its problem is already recorded."""


@dataclass(slots=True)  # mutable on purpose: the builder's private stack frame
class _Frame:
    container: dict[str, Any] | list[Any]
    path: Path_
    start: int  # byte offset of the collection's first character
    key: str | None = None  # a mapping's key awaiting its value; None while awaiting a key


@dataclass
class _Builder:
    """Turns libyaml events into plain values, checking each event before using it."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    positions: dict[Path_, Position] = field(default_factory=dict)
    key_positions: dict[Path_, Position] = field(default_factory=dict)
    stack: list[_Frame] = field(default_factory=list)
    root: Any = None
    documents: int = 0

    def feed(self, events: Any) -> None:
        """Consume the event stream (yaml.parse) until it ends or a fatal problem stops it."""
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar,
            yaml.MappingStartEvent: self._start,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingEndEvent: self._end,
            yaml.SequenceEndEvent: self._end,
            yaml.AliasEvent: self._alias,
            yaml.DocumentStartEvent: self._document,
        }
        try:
            for event in events:
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)
        except _Stop:
            return

    def _problem(self, mark: Any, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.file, *_mark(mark), message=message, hint=hint))

    def _check(self, event: Any) -> _Frame | None:
        """Report an anchor or tag on a node; return its mapping when the node is a key."""
        if event.anchor is not None:
            self._problem(event.start_mark, NO_REFERENCES)
        if getattr(event, "tag", None) is not None:
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")  # as the author wrote it
            message = f"tags are not allowed in a calendar: {tag}"
            self._problem(event.start_mark, message, "remove it; quote the value if it is text")
        frame = self.stack[-1] if self.stack else None
        return frame if frame and frame.key is None and isinstance(frame.container, dict) else None

    def _document(self, event: yaml.DocumentStartEvent) -> None:
        self.documents += 1
        if self.documents > 1:
            hint = "one calendar per file: remove the `---` or split the file"
            self._problem(event.start_mark, "more than one YAML document in the file", hint)
            raise _Stop
        if event.version is not None or event.tags:
            self._problem(event.start_mark, "%YAML and %TAG directives are not allowed")

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        mapping = self._check(event)
        if mapping is not None:
            self._key(mapping, event.value, event.start_mark)
        elif event.style:  # quoted and block scalars are always text
            self._put(event.value, event.start_mark)
        else:
            self._put(self._plain(event), event.start_mark)

    def _plain(self, event: yaml.ScalarEvent) -> Any:
        try:
            return _resolve(event.value)
        except ValueError:
            self._problem(event.start_mark, f"number with {len(event.value)} digits is too long")
            return None

    def _key(self, mapping: _Frame, key: str, mark: Any) -> None:
        mapping.key, path = key, (*mapping.path, key)
        first = self.key_positions.get(path)
        if key in mapping.container and first is not None:
            self._problem(mark, f"duplicate key '{key}' (first at line {first[0]})", "keep one")
        else:
            self.key_positions[path] = _mark(mark)

    def _put(self, value: Any, mark: Any) -> Path_:
        path: Path_ = ()
        if not self.stack:
            self.root = value
        elif isinstance(container := self.stack[-1].container, dict):
            frame = self.stack[-1]
            key, frame.key = frame.key or "", None
            container[key], path = value, (*frame.path, key)
        else:
            path = (*self.stack[-1].path, len(container))
            container.append(value)
        self.positions[path] = _mark(mark)
        return path

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        if self._check(event) is not None:
            hint = "a key is plain text; quote it if it starts with [ or {"
            self._problem(event.start_mark, "a key must be a string, not a list or mapping", hint)
            raise _Stop
        if len(self.stack) >= MAX_DEPTH:
            self._problem(event.start_mark, DEEP, "look for unclosed brackets")
            raise _Stop
        container: dict[str, Any] | list[Any] = {}
        if not isinstance(event, yaml.MappingStartEvent):
            container = []
        path = self._put(container, event.start_mark)
        self.stack.append(_Frame(container, path, _index(event.start_mark)))

    def _end(self, event: yaml.CollectionEndEvent) -> None:
        self.stack.pop()

    def _alias(self, event: yaml.AliasEvent) -> None:
        mapping = self._check(event)
        if mapping is not None:
            self._key(mapping, f"*{event.anchor}", event.start_mark)
        else:
            self._put(None, event.start_mark)

    def too_deep(self, raw: bytes, until: int) -> Problem | None:
        """Where nesting passed MAX_DEPTH, when libyaml's own deeper limit stopped it first.

        libyaml reads ahead over `[[[[...` before delivering any event, so count the
        brackets it read past the innermost collection delivered so far.
        """
        depth, begin = len(self.stack), self.stack[-1].start + 1 if self.stack else 0
        for offset in range(begin, until):
            depth += (raw[offset] in b"[{") - (raw[offset] in b"]}")
            if depth > MAX_DEPTH:
                line, col = byte_place(raw, offset)
                return Problem(self.file, line, col, message=DEEP, hint="look for unclosed brackets")
        return None


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "quote the value if it contains ': '"),
    ("could not find expected ':'", "write `key: value`; quote text that spans lines"),
    ("did not find expected key", "check the indentation of this line"),
    ("did not find expected '-'", "check the indentation of this line"),
    ("expected <block end>", "check the indentation of this line"),
    (
        "unknown escape character",
        r"in double quotes write \\ for a backslash, or use single quotes",
    ),
    ("end of stream", "a quote or bracket is not closed"),
    ("expected ',' or ']'", "close the list with ]"),
    ("expected ',' or '}'", "close the mapping with }"),
    ("tag", "tags are not allowed in a calendar"),
)


def _syntax_problem(error: yaml.MarkedYAMLError, raw: bytes, file: str) -> Problem:
    """libyaml's complaint as a Problem at its mark, in words a calendar author can act on."""
    line, col = _mark(error.problem_mark)
    offset = error.problem_mark.index if error.problem_mark is not None else 0
    char = raw[offset : offset + 1].decode("utf-8", "replace")
    if char == "\t":
        return Problem(file, line, col, message=TABS, hint="indent with spaces")
    problem = error.problem or "invalid YAML"
    if (error.context == "while scanning a quoted scalar" and error.context_mark is not None
            and "end of stream" in problem):
        # libyaml notices at the end of the file; the mistake is the quote that opened it.
        line, col = _mark(error.context_mark)
        quote = raw[error.context_mark.index : error.context_mark.index + 1].decode()
        return Problem(file, line, col, message=f"this {quote} is never closed",
                       hint=f"end the value with {quote}")
    if problem == "found character that cannot start any token":
        problem = f"{char!r} cannot start a value"
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in problem), "quote the value")
    message = _TOKEN_NAME.sub(r"\1", problem)
    if error.context and error.context_mark is not None:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return Problem(file, line, col, message=message, hint=hint)


def _quoted_spans(raw: bytes) -> list[tuple[int, int]]:
    """Byte spans of quoted scalars, as far as the file can be tokenized."""
    spans = []
    try:
        for token in yaml.scan(raw, Loader=yaml.CSafeLoader):
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'"):
                spans.append((_index(token.start_mark), _index(token.end_mark)))
    except yaml.YAMLError:
        pass  # the parse reports it; tabs before that point are still checked
    return spans
