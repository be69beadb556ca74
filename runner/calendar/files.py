"""Reading calendar files: finding them, checking their bytes, and loading them strictly.

Calendars decide what gets posted publicly, so a file is read only within bounds on size,
only as UTF-8 text without control characters, and then through the strict YAML reader in
`runner.calendar.strict_yaml` (YAML 1.2 core scalars, no duplicate keys, tags, anchors, aliases or
tabs outside quoted strings). A `Document` is one file's plain data with the 1-based
position of every value and key, for error reports.
"""

from __future__ import annotations

import os
import pathlib
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.calendar.positions import TABS, Position, byte_place, place
from runner.calendar.strict_yaml import DEEP, MAX_DEPTH, NO_REFERENCES, Path_, parse
from runner.errors import InvalidCalendar, Problem

__all__ = [
    "DEEP",
    "EMPTY",
    "MAX_BYTES",
    "MAX_DEPTH",
    "NO_REFERENCES",
    "SUFFIXES",
    "TABS",
    "Document",
    "Path_",
    "Position",
    "files_and_problems",
    "find_calendar_files",
    "load_all",
    "load_file",
    "load_text",
    "read_file",
]

MAX_BYTES = 10 * 1024 * 1024
SUFFIXES = (".yaml", ".yml")
EMPTY = "empty file: a calendar file needs at least `version: 1`"

_BOM = b"\xef\xbb\xbf"
# Outside YAML's printable set; libyaml would refuse these without a position.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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


def _too_big(file: str, size: int) -> Problem:
    mib = 1024 * 1024
    message = f"file is {size / mib:.1f} MiB; the limit is {MAX_BYTES // mib} MiB"
    return Problem(file, 1, 1, message=message, hint="split the calendar into several files")


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
        line, col = byte_place(raw, raw.index(b"\0"))
        return Problem(file, line, col, message="binary file, not a calendar")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, col = byte_place(raw, error.start)
        message = f"not valid UTF-8 (byte 0x{raw[error.start]:02x})"
        return Problem(file, line, col, message=message, hint="save the file as UTF-8")
    found = _UNPRINTABLE.search(text)
    if found is None:
        return None
    line, col = place(text[: found.start()])
    message = f"control character U+{ord(found.group()):04X} is not allowed"
    return Problem(file, line, col, message=message, hint='write it as an escape in "double quotes"')


def load_text(text: bytes | str, file: str) -> Document:
    """Load one calendar file's text strictly; every problem found raises InvalidCalendar."""
    # surrogatepass: a lone surrogate in a str then fails the UTF-8 check with a position.
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    raw = raw.removeprefix(_BOM)  # before anything counts columns: libyaml skips it too
    problem = _encoding_problem(raw, file)
    if problem is not None:
        raise InvalidCalendar([problem])
    parsed = parse(raw, file)
    problems = [*parsed.problems, *([Problem(file, 1, 1, message=EMPTY)] if parsed.empty else [])]
    if problems:
        raise InvalidCalendar(problems)
    doc = Document(file, parsed.root, parsed.positions, parsed.key_positions)
    problems = list(_reordering(doc, parsed.root, ())) if _may_reorder(raw) else []
    if problems:
        raise InvalidCalendar(problems)
    return doc


# Characters that change the order in which text is shown (bidi embeddings, overrides and
# isolates): with U+202E a link reads as another address than the one sent, and `plan`
# would show a reviewer the disguise. Refused in every value and key, escaped or not.
_REORDERING = re.compile("[\u202a-\u202e\u2066-\u2069]")
# The same characters in UTF-8, or an escape that may write one: walking every value for
# them was a tenth of `validate`, and almost no file holds either.
_MAY_REORDER = re.compile(rb"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\\[uU]")


def _may_reorder(raw: bytes) -> bool:
    """Whether a value or key may hold a reordering character: as it is, or written as a
    \\u or \\U escape in double quotes (the only escapes that reach them)."""
    return _MAY_REORDER.search(raw) is not None


def _reordering(doc: Document, node: Any, path: Path_) -> Iterator[Problem]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _reordering(doc, key, (*path, key)) if isinstance(key, str) else ()
            yield from _reordering(doc, value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _reordering(doc, value, (*path, index))
    elif isinstance(node, str) and (found := _REORDERING.search(node)):
        line, col = doc.where(path)
        yield Problem(doc.file, line, col,
                      message=f"U+{ord(found.group()):04X} changes the order text is shown in,"
                              " so a reviewer would read something other than what is sent",
                      hint="remove it (for right-to-left text, the script's own letters"
                           " are enough)")


def load_file(path: pathlib.Path, file: str | None = None) -> Document:
    """Load one calendar file; `file` is its display name (default: the path as given)."""
    name = str(path) if file is None else file
    return load_text(read_file(path, name), name)


def read_file(path: pathlib.Path, name: str) -> bytes:
    """The bytes of a calendar file, refusing what is not a regular file or is too big."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InvalidCalendar([Problem(name, message="not a regular file")])
        if info.st_size > MAX_BYTES:  # refused before reading a byte of it
            raise InvalidCalendar([_too_big(name, info.st_size)])
        with path.open("rb") as stream:
            return stream.read(MAX_BYTES + 1)  # it may have grown since stat: load_text checks
    except OSError as error:
        raise InvalidCalendar([Problem(name, 1, 1, message=f"cannot read: {error.strerror}")]) from None


def _directory(root: pathlib.Path, problems: list[Problem]) -> list[pathlib.Path]:
    """Calendar files under root, recursively and sorted, skipping hidden files and folders."""

    def unreadable(error: OSError) -> None:
        problems.append(Problem(str(error.filename), message=f"cannot read: {error.strerror}"))

    found = []
    seen: set[tuple[int, int]] = set()  # folders by device and inode: symlink loops end
    # Symlinked sub-folders are followed: skipping one silently cancelled all its posts.
    for folder, folders, files in os.walk(root, onerror=unreadable, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:
            folders[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [
            pathlib.Path(folder, name)
            for name in files
            if name.endswith(SUFFIXES) and not name.startswith(".")
        ]
    return sorted(found)  # by path components: a folder's files stay together


def _find(paths: Sequence[str]) -> tuple[list[tuple[pathlib.Path, str]], list[Problem]]:
    found: dict[object, tuple[pathlib.Path, str]] = {}
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
            found.setdefault(_identity(file[0]), file)
    return list(found.values()), problems


def _identity(path: pathlib.Path) -> object:
    """What makes two names one file: its device and inode (one `stat`, where resolving the
    name walks every folder above it: the daemon's watcher asks for 2,000 files at a time)."""
    try:
        info = os.stat(path)
    except OSError:
        return path.resolve()
    return (info.st_dev, info.st_ino)


def files_and_problems(paths: Sequence[str]) -> tuple[list[tuple[pathlib.Path, str]], list[Problem]]:
    """Like `find_calendar_files`, but returns the problems instead of raising them."""
    return _find(paths)


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
