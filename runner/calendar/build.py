"""Turn loaded documents into one validated `Calendar`, or every problem with its place.

Order: the schema on every file first; then names (accounts, media, entry ids) across all
files; then each entry's times and provider rules. A part the schema already rejected is
not checked again, so each mistake is reported once, where it was made.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from typing import Any

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
from runner.calendar.repetition import check_repeat
from runner.errors import InvalidCalendar


@dataclass
class Memo:
    """Entries built from files by content hash, and their rule findings by content hash
    and the accounts and media they were checked against: what a reload can reuse."""

    entries: dict[tuple[str, Path], Entry] = field(default_factory=dict)
    findings: dict[tuple[str, Path, int], list[rules.Finding]] = field(default_factory=dict)


def build(docs: Sequence[Document], findings: Sequence[Findings] | None = None,
          digests: Sequence[str] | None = None, memo: Memo | None = None) -> Calendar:
    """Every document into one Calendar; InvalidCalendar with all problems otherwise.
    `findings` and `digests` are each document's schema findings and content hash, when
    the caller already has them; `memo` (with `digests`) reuses earlier work."""
    b = Builder(docs)
    for doc, found in zip(docs, findings or [schema.validate(d) for d in docs], strict=True):
        for path, problem in found:
            b.problems.append(problem)
            b.mark_broken(doc, path)
    for doc in docs:
        _names(b, doc)
    names = hash((frozenset(b.accounts.items()), frozenset(b.media.items())))
    b.typos = frozenset().union(*(cascades.misspelled(d) for d in docs)) - {"timezone"}
    b.zone_hint = cascades.zone_hint(docs)
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


def _entries(b: Builder, doc: Document, digest: str | None, memo: Memo,
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
                    if not cascades.hidden(message, b.typos):
                        b.report(doc, path + rel, message, hint, key=not rel)
    return file_tz


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


