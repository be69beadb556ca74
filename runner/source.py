"""Strict YAML loading with positions, and finding calendar files.

Calendars decide what gets posted publicly, so this loader accepts a deliberately small
YAML: UTF-8, one document, YAML 1.2 core scalars (no implicit dates, no sexagesimal
numbers, no `yes`/`no` booleans), string keys, and no duplicate keys, tags, anchors,
aliases or tabs outside quoted strings, within bounds on size and nesting. Values are
built straight from libyaml's event stream with an explicit stack, so every node is
checked before it is used and nothing is expanded or recursed into. Each value keeps its
1-based position for error reports.
"""

from __future__ import annotations

import bisect
import math
import os
import pathlib
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from runner.errors import InvalidCalendar, Problem

Path_ = tuple[str | int, ...]
Position = tuple[int, int]

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
SUFFIXES = (".yaml", ".yml")
EMPTY = "empty file: a calendar file needs at least `version: 1`"
NO_REFERENCES = "anchors and aliases are not allowed in a calendar; write the value out"
DEEP = f"nested deeper than {MAX_DEPTH} levels"
TABS = "tab characters are not allowed outside quoted strings"

_BOM = b"\xef\xbb\xbf"
# libyaml's own idea of a line break; used for every position we compute, so that ours
# agree with the ones libyaml reports for the same file.
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# Outside YAML's printable set; libyaml would refuse these without a position.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
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
class Document:
    """One calendar file's plain data, with the position of every value and key."""

    file: str
    data: Any
    positions: Mapping[Path_, Position]
    key_positions: Mapping[Path_, Position]

    def where(self, path: Path_, *, key: bool = False) -> Position:
        """Position of path (its key when key=True and known); else the nearest ancestor; (1, 1)."""
        if key and path in self.key_positions:
            return self.key_positions[path]
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return (1, 1)


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


def _place(before: str) -> Position:
    """Line and column just after `before`, the text preceding some point of the file."""
    line, start = 1, 0
    for match in _BREAKS.finditer(before):
        line, start = line + 1, match.end()
    return line, len(before) - start + 1


def _byte_place(raw: bytes, offset: int) -> Position:
    return _place(raw[:offset].decode("utf-8", "replace"))


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
                line, col = _byte_place(raw, offset)
                return Problem(self.file, line, col, message=DEEP, hint="look for unclosed brackets")
        return None


def _too_big(file: str, size: int) -> Problem:
    mib = 1024 * 1024
    message = f"file is {size / mib:.1f} MiB; the limit is {MAX_BYTES // mib} MiB"
    return Problem(file, message=message, hint="split the calendar into several files")


def _looks_wide(raw: bytes) -> bool:
    """UTF-16/32: a wide byte-order mark, or text starting with two ASCII characters in it."""
    head = raw[:4]
    return raw.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or any(
        len(head) == 4 and head[zeros::2] == b"\0\0" and 0 not in head[1 - zeros :: 2] for zeros in (0, 1)
    )


def _encoding_problem(raw: bytes, file: str) -> Problem | None:
    """Why these bytes are not a UTF-8 text YAML may be read from, or None."""
    if len(raw) > MAX_BYTES:
        return _too_big(file, len(raw))
    if _looks_wide(raw):
        return Problem(file, 1, 1, message="the file is UTF-16 or UTF-32", hint="save it as UTF-8")
    if b"\0" in raw:
        line, col = _byte_place(raw, raw.index(b"\0"))
        return Problem(file, line, col, message="binary file, not a calendar")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, col = _byte_place(raw, error.start)
        message = f"not valid UTF-8 (byte 0x{raw[error.start]:02x})"
        return Problem(file, line, col, message=message, hint="save the file as UTF-8")
    found = _UNPRINTABLE.search(text)
    if found is None:
        return None
    line, col = _place(text[: found.start()])
    message = f"control character U+{ord(found.group()):04X} is not allowed"
    return Problem(file, line, col, message=message, hint='write it as an escape in "double quotes"')


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


def _outside_quotes(raw: bytes, offsets: Iterable[int]) -> Iterator[int]:
    spans = _quoted_spans(raw)
    starts = [start for start, _ in spans]
    for offset in offsets:
        inside = bisect.bisect_right(starts, offset) - 1
        if inside < 0 or offset >= spans[inside][1]:
            yield offset


def _tab_problems(raw: bytes, file: str, until: int) -> list[Problem]:
    """A problem for the first tab outside quoted strings on each line, up to byte `until`."""
    if b"\t" not in raw[: until + 1]:
        return []
    tabs = (match.start() for match in re.finditer(b"\t", raw[: until + 1]))
    problems: dict[int, Problem] = {}
    line, col, last = 1, 1, 0
    for offset in _outside_quotes(raw, tabs):  # counted on from the last tab: linear time
        segment = raw[last:offset].decode("utf-8", "replace")
        breaks = list(_BREAKS.finditer(segment))
        col = len(segment) - breaks[-1].end() + 1 if breaks else col + len(segment)
        line, last = line + len(breaks), offset
        problems.setdefault(line, Problem(file, line, col, message=TABS, hint="indent with spaces"))
    return list(problems.values())


def load_text(text: bytes | str, file: str) -> Document:
    """Load one calendar file's text strictly; every problem found raises InvalidCalendar."""
    # surrogatepass: a lone surrogate in a str then fails the UTF-8 check with a position.
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    raw = raw.removeprefix(_BOM)  # before anything counts columns: libyaml skips it too
    problem = _encoding_problem(raw, file)
    if problem is not None:
        raise InvalidCalendar([problem])
    builder, until = _Builder(file), len(raw)
    try:
        builder.feed(yaml.parse(raw, Loader=yaml.CSafeLoader))
    except yaml.MarkedYAMLError as error:
        until = _index(error.problem_mark)
        deep = builder.too_deep(raw, until) if "nesting depth" in str(error.problem) else None
        builder.problems.append(deep or _syntax_problem(error, raw, file))
    except yaml.YAMLError as error:  # reader errors; the encoding check should prevent them
        builder.problems.append(Problem(file, message=f"unreadable YAML: {error}"))
    if builder.documents == 0 and not builder.problems:
        builder.problems.append(Problem(file, message=EMPTY))
    problems = builder.problems + _tab_problems(raw, file, until)
    if problems:
        raise InvalidCalendar(problems)
    return Document(file, builder.root, builder.positions, builder.key_positions)


def load_file(path: pathlib.Path, file: str | None = None) -> Document:
    """Load one calendar file; `file` is its display name (default: the path as given)."""
    name = str(path) if file is None else file
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InvalidCalendar([Problem(name, message="not a regular file")])
        if info.st_size > MAX_BYTES:  # refused before reading a byte of it
            raise InvalidCalendar([_too_big(name, info.st_size)])
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)  # it may have grown since stat
    except OSError as error:
        raise InvalidCalendar([Problem(name, message=f"cannot read: {error.strerror}")]) from None
    return load_text(raw, name)


def _directory(root: pathlib.Path, problems: list[Problem]) -> list[pathlib.Path]:
    """Calendar files under root, recursively and sorted, skipping hidden files and folders."""

    def unreadable(error: OSError) -> None:
        problems.append(Problem(str(error.filename), message=f"cannot read: {error.strerror}"))

    found = []
    for folder, folders, files in os.walk(root, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [
            pathlib.Path(folder, name)
            for name in files
            if name.endswith(SUFFIXES) and not name.startswith(".")
        ]
    return sorted(found)  # by path components: a folder's files stay together


def _find(paths: Sequence[str]) -> tuple[list[tuple[pathlib.Path, str]], list[Problem]]:
    found: dict[pathlib.Path, tuple[pathlib.Path, str]] = {}
    problems: list[Problem] = []
    for argument in paths:
        path = pathlib.Path(argument)
        if path.is_dir():
            files = [(file, str(file)) for file in _directory(path, problems)]
            if not files:
                message = "no calendar files (*.yaml, *.yml) in this directory"
                problems.append(Problem(argument, message=message))
        elif path.exists():
            files = [(path, argument)]
        else:
            files = []
            problems.append(Problem(argument, message="no such file or directory"))
        for file in files:  # a file named twice, or inside a named folder, is loaded once
            found.setdefault(file[0].resolve(), file)
    return list(found.values()), problems


def find_calendar_files(paths: Sequence[str]) -> list[tuple[pathlib.Path, str]]:
    """Calendar files named by the arguments (files, or folders searched recursively).

    Returns (path, display name) pairs in argument order, each folder's files sorted.
    A missing path or a folder without calendar files raises InvalidCalendar.
    """
    files, problems = _find(paths)
    if problems:
        raise InvalidCalendar(problems)
    return files


def load_all(paths: Sequence[str]) -> list[Document]:
    """Load every calendar file named by the arguments, reporting the problems of all of them."""
    files, problems = _find(paths)
    documents = []
    for path, name in files:
        try:
            documents.append(load_file(path, name))
        except InvalidCalendar as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidCalendar(problems)
    return documents
