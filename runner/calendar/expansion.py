"""Calendar + time window -> the occurrences due in it, sorted, with stable keys.

Pure: the window is passed in, the clock is never read. A one-off entry's key is its id,
so moving it in the file never makes it a new post; a recurring entry's keys are the wall
times of its occurrences in its zone, so the fall-back hour cannot fire twice and a post
at 09:00 stays at 09:00 local across daylight saving changes.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from runner.calendar import times
from runner.calendar.model import Calendar, Entry, Repeat


@dataclass(frozen=True, order=True)
class Occurrence:
    """One firing of one entry for one account. Ordered by due time, then key, then account."""

    due: datetime  # aware, UTC
    key: str
    account: str
    entry: str
    local: datetime  # aware, in the entry's zone
    grace: timedelta  # how late it may still be sent


def expand(cal: Calendar, start: datetime, end: datetime, *,
           entries: Iterator[Entry] | None = None) -> list[Occurrence]:
    """Every occurrence with `start <= due < end` (both aware), sorted; disabled entries skipped."""
    found: list[Occurrence] = []
    for entry in entries if entries is not None else cal.entries.near(start, end):
        if not entry.enabled:
            continue
        for key, local in instants(entry, start, end):
            due = local.astimezone(UTC)
            found.extend(Occurrence(due, key, account, entry.id, local, entry.grace)
                         for account in entry.to)
    found.sort(key=_order)  # tuples compare in C; the dataclass __lt__ is ~10x slower
    return found


def _order(occ: Occurrence) -> tuple[datetime, str, str]:
    return occ.due, occ.key, occ.account


_FAR = timedelta(days=2)
_EARLIEST = datetime(1, 1, 3, tzinfo=UTC)


def instants(entry: Entry, start: datetime, end: datetime) -> Iterator[tuple[str, datetime]]:
    """(key, aware local time) of each occurrence of `entry` with `start <= due < end`."""
    until = entry.repeat.until_instant if entry.repeat is not None else None
    # A wall's instant is within a day of the same digits read as UTC (no zone is further
    # from UTC), so a wall two days before the window's start is not resolved at all.
    before = (start - _FAR).astimezone(UTC).replace(tzinfo=None) if start > _EARLIEST else None
    for wall in walls(entry):
        if before is not None and wall < before:
            continue
        local = resolve(wall, entry.tz)
        due = local.astimezone(UTC)
        if until is not None and due > until:
            return
        if entry.repeat is not None and skipped_day(wall, due, entry.tz):
            continue
        if due >= end:
            # Walls are at least a day apart and no zone shifts by more than a few hours,
            # so instants increase with walls: nothing later can be inside the window.
            return
        if due >= start:
            yield occurrence_key(entry, wall), local


def skipped_day(wall: datetime, due: datetime, tz: tzinfo) -> bool:
    """True if the wall's whole calendar day never happened in `tz` (Pacific/Apia skipped
    2011-12-30, Pacific/Kwajalein 1993-08-21): its wall time resolves to the next day's
    instant, which has its own occurrence, so that day is left out instead of firing twice."""
    return due.astimezone(tz).date() != wall.date()


def resolve(wall: datetime, tz: tzinfo) -> datetime:
    """The instant of an occurrence's wall time. An entry first written with the offset of a
    repeated hour's second instant carries fold=1 to every wall; on a spring-forward night
    that fold would move the time back by the gap, so a wall that does not exist always
    moves forward (fold=0), as docs/design.md says."""
    local = times.resolve_wall(wall, tz)
    if local.fold and local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return times.resolve_wall(wall.replace(fold=0), tz)
    return local


def occurrence_key(entry: Entry, wall: datetime) -> str:
    """The ledger key: the id for a one-off; the id and local date for a repetition.

    Repetitions are at most daily, so the local date names one occurrence: the fall-back
    hour cannot fire twice, and moving a daily 09:00 to 09:05 after today's post went
    out does not post today again (it is the same occurrence, moved)."""
    if entry.repeat is None:
        return entry.id
    return f"{entry.id}@{wall.date().isoformat()}"


_UNTIL_SLACK = {True: timedelta(0), False: timedelta(days=1)}  # by: is `until` a wall time?


def walls(entry: Entry) -> Iterator[datetime]:
    """The wall times of every occurrence in order (infinite for `forever`)."""
    rule = entry.repeat
    if rule is None:
        yield entry.start
        return
    for index, wall in enumerate(candidates(entry.start, rule)):
        if rule.count is not None and index >= rule.count:
            return
        if rule.until is not None and wall > rule.until + _UNTIL_SLACK[rule.until_instant is None]:
            return  # with an instant `until`, `instants` stops at it exactly
        if wall.date() in rule.skip_days or wall in rule.skip_times:
            continue
        yield wall


def candidates(first: datetime, rule: Repeat) -> Iterator[datetime]:
    """The rule's wall times from `first` on, before `count`, `until` and `except` apply."""
    clock = first.time()
    if rule.every == "day":
        step = 0
        while True:
            yield datetime.combine(first.date() + timedelta(days=step), clock)
            step += rule.interval
    elif rule.every == "week":
        days = rule.on or (first.weekday(),)
        monday = first.date() - timedelta(days=first.weekday())
        week = 0
        while True:
            for weekday in days:
                day = monday + timedelta(weeks=week, days=weekday)
                if day >= first.date():
                    yield datetime.combine(day, clock)
            week += rule.interval
    else:
        months = 0
        while True:
            month_day = day_in_month(first.date(), months)
            if month_day is not None:
                yield datetime.combine(month_day, clock)
            months += rule.interval
            if months > 12 * 2000:
                return


def day_in_month(first: date, months: int) -> date | None:
    """The same day of the month `months` later; None when that month is too short."""
    year, month = divmod(first.month - 1 + months, 12)
    year += first.year
    if year > 9999:
        return None
    if first.day > _calendar.monthrange(year, month + 1)[1]:
        return None
    return date(year, month + 1, first.day)


def occurrence(cal: Calendar, key: str, account: str) -> Occurrence | None:
    """The current calendar's occurrence with this key for this account, if it still has one
    (the entry exists, is enabled, still goes to the account, and still repeats on that day)."""
    entry_id, _, stamp = key.partition("@")
    entry = cal.entries.get(entry_id)
    if entry is None or not entry.enabled or account not in entry.to:
        return None
    if (entry.repeat is None) != (stamp == ""):
        return None
    if entry.repeat is None:
        wall = entry.start
    else:
        try:
            day = date.fromisoformat(stamp)
        except ValueError:
            return None
        wall = datetime.combine(day, entry.start.time())  # time() keeps the entry's fold
        local = resolve(wall, entry.tz)
        due = local.astimezone(UTC)
        if not any(k == key for k, _ in instants(entry, due, due + timedelta(seconds=1))):
            return None
    local = resolve(wall, entry.tz)
    return Occurrence(local.astimezone(UTC), key, account, entry.id, local, entry.grace)
