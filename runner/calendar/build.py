"""Turn loaded documents into one validated `Calendar`, or every problem with its place.

Order: the schema on every file first; then names (accounts, media, entry ids) across all
files; then each entry's times and provider rules. A part the schema already rejected is
not checked again, so each mistake is reported once, where it was made.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from runner.calendar import cascades, rules, schema, times
from runner.calendar.builder import Builder, Findings, Path, first_wall, parse_duration, parse_time
from runner.calendar.files import Document
from runner.calendar.model import (
    DEFAULT_GRACE,
    Calendar,
    Entry,
    Kind,
    account_from,
    digest_of,
    entry_fields,
    medium_from,
)
from runner.calendar.packing import pack
from runner.calendar.records import FileRecord, names_digest, zone_digest
from runner.calendar.repetition import check_repeat
from runner.calendar.table import Entries, Row, summary_of
from runner.errors import InvalidCalendar


@dataclass(frozen=True)
class Fresh:
    """A file read and schema-checked in this process."""

    doc: Document
    findings: Findings
    sha: str  # of its bytes (or of its data, when it has no bytes)


Part = Fresh | FileRecord


class NeedsReading(Exception):
    """Entries of recorded files now break a rule (an account or medium they use changed):
    their problems need those files' positions, so the files must be read again."""

    def __init__(self, names: set[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = names


def build(docs: Sequence[Document], findings: Sequence[Findings] | None = None,
          digests: Sequence[str] | None = None) -> Calendar:
    """Every document into one Calendar; InvalidCalendar with all problems otherwise.
    `findings` and `digests` are each document's schema findings and content hash, when
    the caller already has them. The entries are held as built."""
    found = findings or [schema.validate(d) for d in docs]
    content = digests if digests is not None else [digest_of(d.data) for d in docs]
    parts = [Fresh(*part) for part in zip(docs, found, content, strict=True)]
    b, built, _ = _check(parts)
    zones = [made[0] for made in built if made is not None]
    accounts = {k: v for k, v in b.accounts.items() if v is not None}
    media = {k: v for k, v in b.media.items() if v is not None}
    return Calendar(accounts, media, Entries.of(b.entries.values()),
                    digest_of([[p.doc.file, p.sha] for p in parts]),
                    next((z for z in zones if z is not None), None),
                    tuple(d.file for d in docs))


def build_records(parts: Sequence[Part]) -> list[FileRecord]:
    """Check files together, some read now and some recorded, as `build` checks them all:
    each file's record, or InvalidCalendar with every problem (at the places `build` would
    give), or NeedsReading when recorded files must be read for their problems' places."""
    b, built, names = _check(parts)
    records = []
    for part, made in zip(parts, built, strict=True):
        if isinstance(part, Fresh):
            assert made is not None
            records.append(_record(b, part, *made, names))
        else:
            records.append(part if part.names == names else replace(part, names=names))
    return records


def assemble(records: Sequence[FileRecord]) -> Calendar:
    """The calendar that records checked together make (see `build_records`)."""
    rows = {row.id: row for record in records for row in record.entries}
    files = {r.name: (r.sha, r.entries) for r in records}
    return Calendar({a.name: a for r in records for a in r.accounts},
                    {m.name: m for r in records for m in r.media}, Entries(rows, files),
                    digest_of([[r.name, r.sha] for r in records]),
                    next((r.zone for r in records if r.zone is not None), None),
                    tuple(r.name for r in records))


Built = tuple[tzinfo | None, list[tuple[Path, Entry]]]  # a file's zone, its entries


def _check(parts: Sequence[Part]) -> tuple[Builder, list[Built | None], str]:
    """Every problem of these files together, in the order `build` finds them."""
    docs = [p.doc if isinstance(p, Fresh) else p.stand_in() for p in parts]
    b = Builder(docs)
    for part in parts:
        if isinstance(part, Fresh):
            for path, problem in part.findings:
                b.problems.append(problem)
                b.mark_broken(part.doc, path)
    for part, doc in zip(parts, docs, strict=True):
        _names(b, doc) if isinstance(part, Fresh) else _recorded_names(b, part, doc)
    names = names_digest(b.accounts, b.media)
    b.typos = frozenset().union(*(cascades.misspelled(d) for d in docs)) - {"timezone"}
    b.zone_hint = cascades.zone_hint(docs)
    built: list[Built | None] = []
    stale = set()
    unique = _ids_unique(parts)
    for part, doc in zip(parts, docs, strict=True):
        if isinstance(part, Fresh):
            built.append(_entries(b, doc))
            continue
        built.append(None)
        for row in part.entries if not unique else ():  # a duplicate: find and name it
            b.first_seen("entry id", row.id, doc, (*row.path, "id"))
        if part.names != names and _breaks_rules(b, part):
            stale.add(part.name)
    if stale:
        raise NeedsReading(stale)
    if b.problems:
        raise InvalidCalendar(b.problems)
    return b, built, names


def _ids_unique(parts: Sequence[Part]) -> bool:
    """Whether no entry id is written twice in all these files, worked out in bulk: a large
    calendar's 200,000 recorded ids then need not be registered one by one."""
    seen: set[str] = set()
    count = 0
    for part in parts:
        if isinstance(part, Fresh):
            data = part.doc.data if isinstance(part.doc.data, dict) else {}
            lists = (data.get(kind.value) for kind in Kind)
            ids = [item["id"] for items in lists if isinstance(items, list) for item in items
                   if isinstance(item, dict) and isinstance(item.get("id"), str)]
        else:
            ids = [row.id for row in part.entries]
        count += len(ids)
        seen.update(ids)
    return len(seen) == count


def _recorded_names(b: Builder, record: FileRecord, doc: Document) -> None:
    for account in record.accounts:
        if b.first_seen("account", account.name, doc, ("accounts", account.name)):
            b.accounts[account.name] = account
    for medium in record.media:
        if b.first_seen("medium", medium.name, doc, ("media", medium.name)):
            b.media[medium.name] = medium


def _breaks_rules(b: Builder, record: FileRecord) -> bool:
    """Whether a recorded entry breaks a rule under the accounts and media now defined."""
    entries = Entries({row.id: row for row in record.entries})
    return any(not cascades.hidden(message, b.typos)
               for entry in entries.values()
               for _, message, _ in rules.check_entry(entry, b.accounts, b.media))


def _record(b: Builder, part: Fresh, zone: tzinfo | None, entries: list[tuple[Path, Entry]],
            names: str) -> FileRecord:
    doc = part.doc
    accounts = list(_mapping(doc, "accounts"))
    media = list(_mapping(doc, "media"))
    named: list[Path] = [*(("accounts", n) for n in accounts), *(("media", n) for n in media)]
    timezone = doc.data.get("timezone") if isinstance(doc.data, dict) else None
    used = {tz.key for tz in (zone, *(e.tz for _, e in entries)) if isinstance(tz, ZoneInfo)}
    return FileRecord(
        doc.file, part.sha, zone, timezone if isinstance(timezone, str) else None,
        tuple(b.accounts[n] for n in accounts if b.accounts[n] is not None),  # type: ignore[misc]
        tuple(b.media[n] for n in media if b.media[n] is not None),  # type: ignore[misc]
        tuple(Row(e.id, summary_of(e), pack(e), e.file, path, _place(doc, (*path, "id")))
              for path, e in entries),
        tuple((path, doc.where(path, key=True)) for path in named),
        names, tuple((key, zone_digest(key)) for key in sorted(used)))


def _place(doc: Document, path: Path) -> int:
    line, col = doc.where(path, key=True)
    return line << 32 | col


def _mapping(doc: Document, key: str) -> Mapping[str, Any]:
    value = doc.data.get(key) if isinstance(doc.data, dict) else None
    return value if isinstance(value, dict) else {}


def _names(b: Builder, doc: Document) -> None:
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


def _file_settings(b: Builder, doc: Document) -> tuple[tzinfo | None, timedelta]:
    data = doc.data if isinstance(doc.data, dict) else {}
    tz = None
    if isinstance(data.get("timezone"), str) and not b.is_broken(doc, ("timezone",)):
        try:
            tz = times.zone(data["timezone"])
        except times.TimeProblem as problem:
            b.report(doc, ("timezone",), str(problem), problem.hint)
    grace = DEFAULT_GRACE
    if isinstance(data.get("grace"), str) and not b.is_broken(doc, ("grace",)):
        grace = parse_duration(b, doc, ("grace",), data["grace"]) or DEFAULT_GRACE
    return tz, grace


def _entries(b: Builder, doc: Document) -> Built:
    """Build the entries of one file; returns the file's zone and its entries with their paths."""
    file_tz, file_grace = _file_settings(b, doc)
    data = doc.data if isinstance(doc.data, dict) else {}
    built: list[tuple[Path, Entry]] = []
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
            entry = _entry(b, doc, path, kind, item, file_tz, file_grace)
            if entry is None:
                continue
            b.entries[entry.id] = entry
            built.append((path, entry))
            for rel, message, hint in rules.check_entry(entry, b.accounts, b.media):
                if not cascades.hidden(message, b.typos):
                    b.report(doc, path + rel, message, hint, key=not rel)
    return file_tz, built


def _entry(b: Builder, doc: Document, path: Path, kind: Kind, item: Mapping[str, Any],
           file_tz: tzinfo | None, file_grace: timedelta) -> Entry | None:
    try:
        tz = times.zone(item["timezone"]) if "timezone" in item else file_tz
    except times.TimeProblem as problem:
        b.report(doc, (*path, "timezone"), str(problem), problem.hint)
        return None
    written = parse_time(b, doc, (*path, "at"), item["at"])
    if written is None:
        return None
    if tz is None and written.offset is None:
        if "timezone" not in cascades.misspelled(doc):  # else the typo is the one problem
            b.report(doc, (*path, "at"), f"no time zone for '{item['at']}'", b.zone_hint)
        return None
    tz = tz or written.offset
    assert tz is not None
    start = first_wall(b, doc, (*path, "at"), written, tz, repeats="repeat" in item)
    # Check the repetition even when `at` is wrong, against the time as written, so that
    # every problem of the entry is reported at once.
    repeat = check_repeat(b, doc, (*path, "repeat"), item["repeat"], start or written.wall, tz) \
        if "repeat" in item else None
    if start is None or ("repeat" in item and repeat is None):
        return None
    grace = parse_duration(b, doc, (*path, "grace"), item["grace"]) if "grace" in item else file_grace
    if grace is None:
        return None
    content = {k: v for k, v in item.items() if k != "note"}
    return Entry(
        id=item["id"], kind=kind, file=doc.file, line=doc.where(path)[0], tz=tz, start=start,
        to=tuple(map(sys.intern, item["to"])), fields=entry_fields(item),
        overrides={k: entry_fields(v) for k, v in item.get("overrides", {}).items()},
        repeat=repeat,
        grace=grace,
        enabled=item.get("enabled", True), digest=digest_of([kind.value, str(tz), content]),
    )


