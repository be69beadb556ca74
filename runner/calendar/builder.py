"""The problem collector every build step reports into, and the time fields it reads.

A `Builder` remembers which parts the schema already rejected (so nothing is reported
twice) and which names were seen where (so a duplicate names both places).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from runner.calendar import schema, times
from runner.calendar.files import Document
from runner.calendar.model import Account, Entry, Medium
from runner.errors import Problem

Path = tuple[str | int, ...]
Findings = list[tuple[Path, Problem]]


@dataclass
class Builder:
    docs: Sequence[Document]
    problems: list[Problem] = field(default_factory=list)
    broken: set[tuple[str, Path]] = field(default_factory=set)  # (file, path) with schema errors
    holds_broken: set[tuple[str, Path]] = field(default_factory=set)  # their proper ancestors
    accounts: dict[str, Account | None] = field(default_factory=dict)  # None: defined, broken
    media: dict[str, Medium | None] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    seen: dict[tuple[str, str], tuple[Document, Path]] = field(default_factory=dict)
    typos: frozenset[str] = frozenset()  # top-level keys misspelled: their cascade is muted
    zone_hint: str = ""  # the fix for an entry without a zone

    def report(self, doc: Document, path: Path, message: str, hint: str = "", *,
               key: bool = False) -> None:
        line, col = doc.where(path, key=key)
        self.problems.append(Problem(doc.file, line, col, schema.json_path(path), message, hint))

    def mark_broken(self, doc: Document, path: Path) -> None:
        self.broken.add((doc.file, path))
        self.holds_broken.update((doc.file, path[:n]) for n in range(len(path)))

    def is_broken(self, doc: Document, path: Path) -> bool:
        """Whether the schema rejected this part, a part of it, or a part holding it. The
        root does not count as holding: its errors are about top-level keys, which are
        checked on their own, so a typo there must not hide the problems of the rest."""
        return (doc.file, path) in self.holds_broken or any(
            (doc.file, path[:n]) in self.broken for n in range(1, len(path) + 1))

    def first_seen(self, space: str, name: str, doc: Document, path: Path) -> bool:
        """Register a name; report and return False if it was defined before."""
        earlier = self.seen.get((space, name))
        if earlier is None:
            self.seen[(space, name)] = (doc, path)
            return True
        other, other_path = earlier
        line, col = other.where(other_path, key=True)
        shared = ("each entry needs its own id, across all files" if space == "entry id"
                  else "names are shared by all files")
        self.report(doc, path, f"{space} '{name}' is defined twice",
                    f"also at {other.file}:{line}:{col}; {shared}", key=True)
        return False


def parse_time(b: Builder, doc: Document, path: Path, text: str) -> times.Written | None:
    try:
        return times.parse(text)
    except times.TimeProblem as problem:
        b.report(doc, path, str(problem), problem.hint)
        return None


def parse_duration(b: Builder, doc: Document, path: Path, text: str) -> timedelta | None:
    try:
        return times.duration(text)
    except times.TimeProblem as problem:
        b.report(doc, path, str(problem), problem.hint)
        return None


def first_wall(b: Builder, doc: Document, path: Path, written: times.Written, tz: tzinfo,
           *, repeats: bool) -> datetime | None:
    """The first occurrence as a wall time in tz, checked to name exactly one instant."""
    if written.offset is not None:
        instant = written.wall.replace(tzinfo=written.offset)
        return instant.astimezone(tz).replace(tzinfo=None)
    try:
        times.resolve_exact(written.wall, tz)
    except times.TimeProblem as problem:
        b.report(doc, path, str(problem), problem.hint)
        return None
    return written.wall


def as_wall(written: times.Written, tz: tzinfo) -> datetime:
    if written.offset is None:
        return written.wall
    return written.wall.replace(tzinfo=written.offset).astimezone(tz).replace(tzinfo=None)
