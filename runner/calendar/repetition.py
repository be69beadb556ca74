"""A `repeat:` block checked and built: how it ends, its weekdays, its `except` dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from runner.calendar import expansion
from runner.calendar.builder import Builder, Path, as_wall, parse_time
from runner.calendar.files import Document
from runner.calendar.model import WEEKDAYS, Repeat

END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59)


def check_repeat(b: Builder, doc: Document, path: Path, data: Mapping[str, Any], start: datetime,
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
    until = until_instant = None
    if "until" in data:
        written = parse_time(b, doc, (*path, "until"), data["until"])
        if written is None:
            return None
        until = as_wall(written, tz) + (END_OF_DAY if not written.has_time else timedelta())
        if written.offset is not None:
            until_instant = written.wall.replace(tzinfo=written.offset)
        if until < start:
            b.report(doc, (*path, "until"), "`until` is before the first occurrence (`at`)")
            return None
    skips: dict[date | datetime, int] = {}
    for index, text in enumerate(data.get("except", [])):
        written = parse_time(b, doc, (*path, "except", index), text)
        if written is None:
            return None
        skips[as_wall(written, tz) if written.has_time else written.wall.date()] = index
    on = tuple(sorted(WEEKDAYS.index(d) for d in data.get("on", [])))
    rule = Repeat(data["every"], data.get("interval", 1), on, until, data.get("count"),
                  frozenset(k for k in skips if not isinstance(k, datetime)),
                  frozenset(k for k in skips if isinstance(k, datetime)), until_instant)
    unmatched = unmatched_skips(start, rule, set(skips))
    for skip in unmatched:
        b.report(doc, (*path, "except", skips[skip]), f"'{data['except'][skips[skip]]}' is not an "
                 "occurrence of this entry, so skipping it changes nothing",
                 _when_it_runs(start, rule, skip))
    return None if unmatched else rule


def _when_it_runs(start: datetime, rule: Repeat, skip: date | datetime) -> str:
    """Say when the entry does run, so a skip on the wrong weekday or time is plain to see."""
    day = skip.date() if isinstance(skip, datetime) else skip
    days = [WEEKDAYS[d] for d in rule.on] if rule.on else (
        [WEEKDAYS[start.weekday()]] if rule.every == "week" else [])
    if days and WEEKDAYS[day.weekday()] not in days:
        return (f"{day:%Y-%m-%d} is a {day:%A}; this entry runs on {', '.join(days)} at "
                f"{start:%H:%M}")
    return f"occurrences are at {start:%H:%M}; check the date and time"


MAX_WALK = 20_000  # candidates walked to match `except` dates; beyond, the rule is asked


def _beyond(skip: date | datetime, walked: date) -> bool:
    return (skip.date() if isinstance(skip, datetime) else skip) >= walked


def _falls_on(start: datetime, rule: Repeat, skip: date | datetime) -> bool:
    """Whether the rule has an occurrence on `skip` (at its time, for a datetime), without
    walking to it; `until` is checked too."""
    day = skip.date() if isinstance(skip, datetime) else skip
    if isinstance(skip, datetime) and skip.time() != start.time():
        return False
    if rule.until is not None and datetime.combine(day, start.time()) > rule.until:
        return False
    first = start.date()
    if rule.every == "day":
        return (day - first).days % rule.interval == 0
    if rule.every == "week":
        monday = first - timedelta(days=first.weekday())
        weeks = (day - monday).days // 7
        return day.weekday() in (rule.on or (first.weekday(),)) and weeks % rule.interval == 0
    months = (day.year - first.year) * 12 + day.month - first.month
    return months % rule.interval == 0 and expansion.day_in_month(first, months) == day


def unmatched_skips(start: datetime, rule: Repeat, skips: set[date | datetime]) -> list[date | datetime]:
    """The `except` days and times that no occurrence falls on: likely typos, and a typo
    there means the post goes out on the very day it was meant to skip."""
    if not skips:
        return []
    last = max(s if not isinstance(s, datetime) else s.date() for s in skips)
    walked = None
    for index, wall in enumerate(expansion.candidates(start, rule)):
        if (rule.count is not None and index >= rule.count) or wall.date() > last or (
                rule.until is not None and wall > rule.until):
            walked = None
            break
        if index >= MAX_WALK:
            # A far-future `except` must not walk millions of days: past this point (only
            # reached without a `count`), each remaining skip is checked against the rule.
            walked = wall.date()
            break
        skips.discard(wall)
        skips.discard(wall.date())
    if walked is not None:
        skips -= {s for s in skips if _beyond(s, walked) and _falls_on(start, rule, s)}
    return sorted(skips, key=lambda s: (s if isinstance(s, datetime)
                                        else datetime.combine(s, datetime.min.time())))
