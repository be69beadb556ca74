"""Which jobs should exist: the pure half of scheduling.

The daemon keeps one scheduler job per instant within a rolling horizon. `Horizon` holds the
occurrences those jobs stand for and, given what the calendar and ledger now say, works out
which instants gained, lost or changed occurrences. It never touches the scheduler, the
clock or the ledger: the caller passes in times and what is settled, and applies the diff.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from runner.calendar import Calendar, Occurrence, expand

Pair = tuple[str, str]  # (occurrence key, account)
Wanted = dict[Pair, Occurrence]
PATCH_LIMIT = 2000  # beyond this many changed entries, a full re-expansion is cheaper


@dataclass(frozen=True)
class JobDiff:
    """Instants whose job must be (re)written, and instants whose job must go."""

    write: list[datetime]
    remove: list[datetime]

    def __len__(self) -> int:
        return len(self.write) + len(self.remove)


@dataclass
class Horizon:
    """The occurrences loaded into jobs, by due instant, and how far they reach."""

    by_due: dict[datetime, set[Pair]] = field(default_factory=dict)
    pending: Wanted = field(default_factory=dict)
    synced_to: datetime | None = None  # end of the last window loaded into jobs

    def window(self, now: datetime, horizon: timedelta) -> tuple[datetime, datetime]:
        """From the end of the last window (or now) to the horizon."""
        return (now if self.synced_to is None else min(now, self.synced_to)), now + horizon

    def replace(self, wanted: Wanted) -> JobDiff:
        """Hold exactly `wanted` from now on; the jobs to write and remove to match."""
        by_due: dict[datetime, set[Pair]] = defaultdict(set)
        for pair, occ in wanted.items():
            by_due[occ.due].add(pair)
        changed = [due for due in set(self.by_due) | set(by_due)
                   if self.by_due.get(due) != by_due.get(due)]
        self.by_due, self.pending = dict(by_due), wanted
        return JobDiff(sorted(d for d in changed if d in by_due),
                       sorted(d for d in changed if d not in by_due))

    def with_overdue(self, wanted: Wanted, start: datetime) -> Wanted:
        """`wanted` plus the occurrences already due whose jobs have not run yet."""
        for pair, occ in self.pending.items():
            if occ.due < start:
                wanted[pair] = occ
        return wanted

    def patched(self, calendar: Calendar, changed: Collection[str], now: datetime,
                is_settled: Callable[[str, str], bool]) -> Wanted:
        """The pending occurrences with those of the `changed` entries expanded again,
        within the window already loaded: a one-entry edit costs one entry's work."""
        assert self.synced_to is not None
        wanted = {p: o for p, o in self.pending.items() if o.entry not in changed}
        start = min([now, *(o.due for o in self.pending.values() if o.entry in changed)])
        entries = [calendar.entries[i] for i in sorted(changed) if i in calendar.entries]
        for occ in expand(calendar, start, self.synced_to, entries=iter(entries)):
            if not is_settled(occ.key, occ.account):
                wanted[(occ.key, occ.account)] = occ
        return wanted

    def fire(self, due: datetime) -> list[Occurrence]:
        """Take the occurrences due at `due` out of the horizon, in key order."""
        pairs = self.by_due.pop(due, set())
        found = (self.pending.pop(pair, None) for pair in sorted(pairs))
        return [occ for occ in found if occ is not None]

    def next_due(self) -> datetime | None:
        return min(self.by_due, default=None)


def unsettled(calendar: Calendar, start: datetime, end: datetime,
              settled: Callable[[Collection[str]], Collection[Pair]]) -> Wanted:
    """The occurrences in the window that the ledger has not settled; `settled(keys)` says
    which (key, account) pairs of those keys it has."""
    found = expand(calendar, start, end)
    done = settled({o.key for o in found}) if found else set()
    return {(o.key, o.account): o for o in found if (o.key, o.account) not in done}


def changed_entries(before: Calendar, after: Calendar) -> set[str]:
    """Ids of entries added, removed, or changed in what or when they publish."""
    def view(cal: Calendar, entry_id: str) -> tuple[str, timedelta] | None:
        summary = cal.entries.summary(entry_id)
        return None if summary is None else (summary.digest, summary.grace)

    return {i for i in after.entries.may_differ(before.entries)
            if view(before, i) != view(after, i)}
