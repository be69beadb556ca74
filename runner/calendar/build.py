"""Turn loaded documents into one validated `Calendar`, or every problem with its place.

Order: the schema on every file first; then names (accounts, media, entry ids) across all
files; then each entry's times and provider rules. A part the schema already rejected is
not checked again, so each mistake is reported once, where it was made.
"""

from __future__ import annotations

import hashlib
import pathlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from runner.calendar import expand, rules, schema, times
from runner.calendar import files as source
from runner.calendar.files import Document
from runner.calendar.model import (
    DEFAULT_GRACE,
    WEEKDAYS,
    Account,
    Calendar,
    Entry,
    Kind,
    Medium,
    Repeat,
    account_from,
    digest_of,
    entry_fields,
    medium_from,
)
from runner.errors import InvalidCalendar, Problem

Path = tuple[str | int, ...]
Findings = list[tuple[Path, Problem]]
END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59)


def load(paths: Sequence[str]) -> Calendar:
    """Read, check and build the calendar at `paths` (files or directories)."""
    return Loader(paths).load()


@dataclass(frozen=True)
class _Loaded:
    digest: str  # of the file's bytes
    doc: Document
    findings: Findings


@dataclass
class Memo:
    """Entries built from files by content hash, and their rule findings by content hash
    and the accounts and media they were checked against: what a reload can reuse."""

    entries: dict[tuple[str, Path], Entry] = field(default_factory=dict)
    findings: dict[tuple[str, Path, int], list[rules.Finding]] = field(default_factory=dict)


class Loader:
    """Loads the calendar at `paths` again and again (the daemon's reloads). A file whose
    bytes did not change is not parsed, schema-checked or built again, so an edit to one
    file of forty costs about one file's work; names and ids are still checked across all
    files, and rules again wherever an account or medium changed."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self._files: dict[str, _Loaded] = {}
        self._memo = Memo()

    def load(self) -> Calendar:
        """The calendar as the files are now; InvalidCalendar with every problem otherwise."""
        files, problems = source.files_and_problems(self.paths)
        loaded: list[_Loaded] = []
        for path, name in files:
            try:
                loaded.append(self._file(path, name))
            except InvalidCalendar as error:
                problems.extend(error.problems)
        if problems:
            raise InvalidCalendar(problems)
        live = {f.digest for f in loaded}  # forget what files used to hold
        self._files = {name: f for name, f in self._files.items() if f.digest in live}
        self._memo.entries = {k: v for k, v in self._memo.entries.items() if k[0] in live}
        self._memo.findings = {k: v for k, v in self._memo.findings.items() if k[0] in live}
        return build([f.doc for f in loaded], [f.findings for f in loaded],
                     [f.digest for f in loaded], self._memo)

    def _file(self, path: pathlib.Path, name: str) -> _Loaded:
        raw = source.read_file(path, name)
        digest = hashlib.sha256(raw).hexdigest()
        cached = self._files.get(name)
        if cached is None or cached.digest != digest:
            doc = source.load_text(raw, name)
            cached = self._files[name] = _Loaded(digest, doc, schema.validate(doc))
        return cached


@dataclass
class _Builder:
    docs: Sequence[Document]
    problems: list[Problem] = field(default_factory=list)
    broken: set[tuple[str, Path]] = field(default_factory=set)  # (file, path) with schema errors
    holds_broken: set[tuple[str, Path]] = field(default_factory=set)  # their proper ancestors
    accounts: dict[str, Account | None] = field(default_factory=dict)  # None: defined, broken
    media: dict[str, Medium | None] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    seen: dict[tuple[str, str], tuple[Document, Path]] = field(default_factory=dict)

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


def build(docs: Sequence[Document], findings: Sequence[Findings] | None = None,
          digests: Sequence[str] | None = None, memo: Memo | None = None) -> Calendar:
    """Every document into one Calendar; InvalidCalendar with all problems otherwise.
    `findings` and `digests` are each document's schema findings and content hash, when
    the caller already has them; `memo` (with `digests`) reuses earlier work."""
    b = _Builder(docs)
    for doc, found in zip(docs, findings or [schema.validate(d) for d in docs], strict=True):
        for path, problem in found:
            b.problems.append(problem)
            b.mark_broken(doc, path)
    for doc in docs:
        _names(b, doc)
    names = hash((frozenset(b.accounts.items()), frozenset(b.media.items())))
    keys = digests if digests is not None and memo is not None else [None] * len(docs)
    zones = [_entries(b, doc, key, memo or Memo(), names) for doc, key in zip(docs, keys, strict=True)]
    if b.problems:
        raise InvalidCalendar(b.problems)
    accounts = {k: v for k, v in b.accounts.items() if v is not None}
    media = {k: v for k, v in b.media.items() if v is not None}
    content = digests if digests is not None else [digest_of(d.data) for d in docs]
    return Calendar(accounts, media, b.entries,
                    digest_of([[d.file, c] for d, c in zip(docs, content, strict=True)]),
                    next((z for z in zones if z is not None), None),
                    tuple(d.file for d in docs))


def _mapping(doc: Document, key: str) -> Mapping[str, Any]:
    value = doc.data.get(key) if isinstance(doc.data, dict) else None
    return value if isinstance(value, dict) else {}


def _names(b: _Builder, doc: Document) -> None:
    for name, data in _mapping(doc, "accounts").items():
        path = ("accounts", name)
        if b.first_seen("account", name, doc, path):
            b.accounts[name] = None if b.is_broken(doc, path) else account_from(name, data)
    for name, data in _mapping(doc, "media").items():
        path = ("media", name)
        if b.first_seen("medium", name, doc, path):
            medium = b.media[name] = None if b.is_broken(doc, path) else medium_from(name, data)
            for rel, message, hint in rules.check_medium(medium) if medium else ():
                b.report(doc, path + rel, message, hint)


def _file_settings(b: _Builder, doc: Document) -> tuple[tzinfo | None, timedelta]:
    data = doc.data if isinstance(doc.data, dict) else {}
    tz = None
    if isinstance(data.get("timezone"), str) and not b.is_broken(doc, ("timezone",)):
        try:
            tz = times.zone(data["timezone"])
        except times.TimeProblem as problem:
            b.report(doc, ("timezone",), str(problem), problem.hint)
    grace = DEFAULT_GRACE
    if isinstance(data.get("grace"), str) and not b.is_broken(doc, ("grace",)):
        grace = _duration(b, doc, ("grace",), data["grace"]) or DEFAULT_GRACE
    return tz, grace


def _entries(b: _Builder, doc: Document, digest: str | None, memo: Memo,
             names: int) -> tzinfo | None:
    """Build the entries of one file; returns the file's zone. With the file's `digest`,
    entries and rule findings already in `memo` are reused."""
    file_tz, file_grace = _file_settings(b, doc)
    data = doc.data if isinstance(doc.data, dict) else {}
    for kind in Kind:
        items = data.get(kind.value)
        for index, item in enumerate(items if isinstance(items, list) else []):
            path: Path = (kind.value, index)
            entry_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(entry_id, str) and not b.first_seen("entry id", entry_id, doc,
                                                              (*path, "id")):
                continue
            if b.is_broken(doc, path) or not isinstance(item, dict):
                continue
            entry = memo.entries.get((digest, path)) if digest else None
            if entry is None:
                before = len(b.problems)
                entry = _entry(b, doc, path, kind, item, file_tz, file_grace)
                if entry is not None and digest and len(b.problems) == before:
                    memo.entries[(digest, path)] = entry
            if entry is not None:
                b.entries[entry.id] = entry
                found = memo.findings.get((digest, path, names)) if digest else None
                if found is None:
                    found = list(rules.check_entry(entry, b.accounts, b.media))
                    if digest:
                        memo.findings[(digest, path, names)] = found
                for rel, message, hint in found:
                    b.report(doc, path + rel, message, hint, key=not rel)
    return file_tz


def _entry(b: _Builder, doc: Document, path: Path, kind: Kind, item: Mapping[str, Any],
           file_tz: tzinfo | None, file_grace: timedelta) -> Entry | None:
    try:
        tz = times.zone(item["timezone"]) if "timezone" in item else file_tz
    except times.TimeProblem as problem:
        b.report(doc, (*path, "timezone"), str(problem), problem.hint)
        return None
    written = _time(b, doc, (*path, "at"), item["at"])
    if written is None:
        return None
    if tz is None and written.offset is None:
        b.report(doc, (*path, "at"), f"no time zone for '{item['at']}'",
                 "add `timezone: Europe/Berlin` (your zone) at the top of the file or on the "
                 "entry, or write the time with an offset")
        return None
    tz = tz or written.offset
    assert tz is not None
    start = _start(b, doc, (*path, "at"), written, tz, repeats="repeat" in item)
    # Check the repetition even when `at` is wrong, against the time as written, so that
    # every problem of the entry is reported at once.
    repeat = _repeat(b, doc, (*path, "repeat"), item["repeat"], start or written.wall, tz) \
        if "repeat" in item else None
    if start is None or ("repeat" in item and repeat is None):
        return None
    grace = _duration(b, doc, (*path, "grace"), item["grace"]) if "grace" in item else file_grace
    if grace is None:
        return None
    content = {k: v for k, v in item.items() if k != "note"}
    return Entry(
        id=item["id"], kind=kind, file=doc.file, line=doc.where(path)[0], tz=tz, start=start,
        to=tuple(item["to"]), fields=entry_fields(item),
        overrides={k: entry_fields(v) for k, v in item.get("overrides", {}).items()},
        repeat=repeat,
        grace=grace,
        enabled=item.get("enabled", True), digest=digest_of([kind.value, str(tz), content]),
    )


def _time(b: _Builder, doc: Document, path: Path, text: str) -> times.Written | None:
    try:
        return times.parse(text)
    except times.TimeProblem as problem:
        b.report(doc, path, str(problem), problem.hint)
        return None


def _duration(b: _Builder, doc: Document, path: Path, text: str) -> timedelta | None:
    try:
        return times.duration(text)
    except times.TimeProblem as problem:
        b.report(doc, path, str(problem), problem.hint)
        return None


def _start(b: _Builder, doc: Document, path: Path, written: times.Written, tz: tzinfo,
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


def _wall(written: times.Written, tz: tzinfo) -> datetime:
    if written.offset is None:
        return written.wall
    return written.wall.replace(tzinfo=written.offset).astimezone(tz).replace(tzinfo=None)


def _repeat(b: _Builder, doc: Document, path: Path, data: Mapping[str, Any], start: datetime,
            tz: tzinfo) -> Repeat | None:
    ends = [k for k in ("until", "count", "forever") if k in data]
    if len(ends) != 1:
        message = ("say how the repetition ends" if not ends
                   else f"give one end, not {' and '.join(ends)}")
        b.report(doc, path, message,
                 "add `until: '2027-06-30'`, `count: 10` or `forever: true`", key=True)
        return None
    if "on" in data and data["every"] != "week":
        b.report(doc, (*path, "on"), "`on` goes with `every: week`", "remove it", key=True)
        return None
    until = None
    if "until" in data:
        written = _time(b, doc, (*path, "until"), data["until"])
        if written is None:
            return None
        until = _wall(written, tz) + (END_OF_DAY if not written.has_time else timedelta())
        if until < start:
            b.report(doc, (*path, "until"), "`until` is before the first occurrence (`at`)")
            return None
    skips: dict[date | datetime, int] = {}
    for index, text in enumerate(data.get("except", [])):
        written = _time(b, doc, (*path, "except", index), text)
        if written is None:
            return None
        skips[_wall(written, tz) if written.has_time else written.wall.date()] = index
    on = tuple(sorted(WEEKDAYS.index(d) for d in data.get("on", [])))
    rule = Repeat(data["every"], data.get("interval", 1), on, until, data.get("count"),
                  frozenset(k for k in skips if not isinstance(k, datetime)),
                  frozenset(k for k in skips if isinstance(k, datetime)))
    unmatched = _unmatched(start, rule, set(skips))
    for skip in unmatched:
        b.report(doc, (*path, "except", skips[skip]), f"'{data['except'][skips[skip]]}' is not an "
                 "occurrence of this entry, so skipping it changes nothing",
                 f"occurrences are at {start:%H:%M}; check the date and time")
    return None if unmatched else rule


def _unmatched(start: datetime, rule: Repeat, skips: set[date | datetime]) -> list[date | datetime]:
    """The `except` days and times that no occurrence falls on: likely typos, and a typo
    there means the post goes out on the very day it was meant to skip."""
    if not skips:
        return []
    last = max(s if not isinstance(s, datetime) else s.date() for s in skips)
    for index, wall in enumerate(expand.candidates(start, rule)):
        if (rule.count is not None and index >= rule.count) or wall.date() > last or (
                rule.until is not None and wall > rule.until):
            break
        skips.discard(wall)
        skips.discard(wall.date())
    return sorted(skips, key=lambda s: (s if isinstance(s, datetime)
                                        else datetime.combine(s, datetime.min.time())))
