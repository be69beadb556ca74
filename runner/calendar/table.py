"""A calendar's entries by id, each with what is asked of it most without reading it whole.

A calendar of a million occurrences holds about 200,000 entries, and built they take about
1.7 KB each. Most commands look at a window (the daemon its horizon, `plan` a week) and a
reload compares digests, so each entry is kept with its `Summary`: its digest and grace,
whether it repeats, and the span of time its occurrences can fall in. Entries read back from
the record store (`records`) stay packed until asked for; entries built in this process
are held as they are.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from runner.calendar import expansion
from runner.calendar.model import Entry
from runner.calendar.packing import unpack

# An occurrence's instant is within 26 h of its wall time read as UTC (no zone is further
# from UTC), and an `until` given as a date holds through that day's end.
SLACK = timedelta(days=3)
COUNTED_WALLS = 10_000  # beyond this many occurrences, a counted repetition's end is not sought


class Summary(NamedTuple):
    """What an entry publishes (its digest) and when it can, without the entry itself. A
    tuple: a dataclass would be rebuilt field by field for each of 200,000 entries read from
    records (0.9 s of a 2.3 s load)."""

    digest: str
    grace: timedelta
    repeats: bool
    enabled: bool
    earliest: datetime  # aware; no occurrence is due before it
    latest: datetime | None  # aware; none is due after it; None when no end is known

    def may_fall_in(self, start: datetime, end: datetime) -> bool:
        """Whether an occurrence of the entry can be due in `start <= due < end`."""
        return self.earliest < end and (self.latest is None or self.latest >= start)


def summary_of(entry: Entry) -> Summary:
    try:
        earliest = entry.start.replace(tzinfo=UTC, fold=0) - SLACK
    except OverflowError:  # a wall in the first days of year 1
        earliest = datetime.min.replace(tzinfo=UTC)
    return Summary(entry.digest, entry.grace, entry.repeat is not None, entry.enabled,
                   earliest, _last_wall(entry))


def _last_wall(entry: Entry) -> datetime | None:
    rule = entry.repeat
    if rule is None:
        last: datetime | None = entry.start
    elif rule.until is not None:
        last = rule.until
    elif rule.count is not None and rule.count <= COUNTED_WALLS:
        tail = deque(expansion.walls(entry), maxlen=1)
        last = tail[0] if tail else entry.start
    else:
        last = None
    if last is None:
        return None
    try:
        return last.replace(tzinfo=UTC, fold=0) + SLACK
    except OverflowError:  # a wall near year 9999
        return None


class Row(NamedTuple):
    """One entry of a calendar: built, or packed (`packing`) as its file's record holds it."""

    id: str
    summary: Summary
    held: Entry | bytes
    file: str
    path: tuple[str | int, ...] = ()  # in its file: (list key, index); for a duplicate's message
    place: int = 0  # line << 32 | column of its `id` key in its file

    @classmethod
    def of(cls, entry: Entry) -> Row:
        return cls(entry.id, summary_of(entry), entry, entry.file)


Files = Mapping[str, tuple[str, Sequence[Row]]]  # file name -> (its content hash, its rows)


class Entries(Mapping[str, Entry]):
    """Entries by id in file order. Reading one that came from the record store unpacks
    it each time: callers that keep an entry keep their own reference. With `files` (the
    rows of each file and the hash of its content), what an edit changed is found among the
    entries of the files it changed."""

    __slots__ = ("_files", "_rows")

    def __init__(self, rows: dict[str, Row], files: Files | None = None) -> None:
        self._rows = rows
        self._files = files

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Entries:
        return cls({entry.id: Row.of(entry) for entry in entries})

    def __getitem__(self, entry_id: str) -> Entry:
        row = self._rows[entry_id]
        held = row.held
        return held if isinstance(held, Entry) else unpack(held, entry_id, row.file)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"Entries({len(self._rows)} entries)"

    def summary(self, entry_id: str) -> Summary | None:
        row = self._rows.get(entry_id)
        return None if row is None else row.summary

    def summaries(self) -> Iterator[tuple[str, Summary]]:
        return ((entry_id, row.summary) for entry_id, row in self._rows.items())

    def may_differ(self, before: Entries) -> Collection[str]:
        """The ids whose entry can differ from `before`'s: those of the files whose content
        changed, when both know their files; else every id of either."""
        if self._files is None or before._files is None:
            return self._rows.keys() | before._rows.keys()
        found: set[str] = set()
        for name in self._files.keys() | before._files.keys():
            mine, theirs = self._files.get(name), before._files.get(name)
            if mine is None or theirs is None or mine[0] != theirs[0]:
                for held in (mine, theirs):
                    found.update(row.id for row in (held[1] if held is not None else ()))
        return found

    def near(self, start: datetime, end: datetime) -> Iterator[Entry]:
        """The entries that can have an occurrence due in `start <= due < end`, in order:
        a superset, for `expand` to decide exactly."""
        for entry_id, row in self._rows.items():
            if row.summary.may_fall_in(start, end):
                yield self[entry_id]
