"""Reading times, durations and zones from a calendar, and resolving wall times in a zone.

Pure functions: no clock. A wall time is resolved with `zoneinfo` in its IANA zone; one that
does not exist (clocks spring forward over it) or happens twice (clocks fall back) cannot be
resolved silently for a one-off post, so the caller gets a `TimeProblem` with the fix.
"""

from __future__ import annotations

import calendar as _calendar
import difflib
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?)?"
)
_DURATION = re.compile(r"(\d+)(s|m|h|d)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Before 1970 nothing was posted anywhere, so such a year is a typo; past 9998 an offset
# could carry the instant beyond what datetime can hold.
YEARS = range(1970, 9999)
MAX_DURATION = timedelta(days=366)
# Real offsets run from -12:00 to +14:00; anything beyond is a typo, not a place.
OFFSETS = (timedelta(hours=-12), timedelta(hours=14))


class TimeProblem(ValueError):
    """A time that cannot be used as written; `hint` says how to write it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Written:
    """A time as written: a wall time, and the offset if one was given (then it is exact)."""

    wall: datetime  # naive
    offset: timezone | None
    has_time: bool = True


def parse(text: str) -> Written:
    """Parse `YYYY-MM-DD[ HH:MM[:SS][offset]]`; raise TimeProblem for impossible dates."""
    match = _TIME.fullmatch(text)
    if not match:
        raise TimeProblem(f"'{text}' is not a time", "write 'YYYY-MM-DD HH:MM', e.g. '2026-12-01 09:00'")
    year, month, day, hour, minute, second, fraction, off = match.groups()
    if int(year) not in YEARS:
        raise TimeProblem(f"'{text}' is out of range", f"years {YEARS[0]} to {YEARS[-1]} only")
    try:
        wall = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                        int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError as exc:
        raise TimeProblem(f"'{text}' does not exist: {_why(exc, int(year), int(month))}") from None
    return Written(wall, _offset(off) if off else None, has_time=hour is not None)


def _why(error: ValueError, year: int, month: int) -> str:
    """datetime's complaint, except that a day past the month's end names the month's length."""
    if "day" in str(error) and 1 <= month <= 12:
        days = _calendar.monthrange(year, month)[1]
        return f"{_calendar.month_name[month]} {year} has {days} days"
    return str(error)


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    offset = sign * timedelta(hours=hours, minutes=minutes)
    if minutes > 59 or not OFFSETS[0] <= offset <= OFFSETS[1]:
        raise TimeProblem(f"'{text}' is not a UTC offset", "offsets run from -12:00 to +14:00")
    return timezone(offset)


def duration(text: str) -> timedelta:
    """`15m` -> 15 minutes; TimeProblem for another form or more than MAX_DURATION."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise TimeProblem(f"'{text}' is not a duration", "e.g. '15m', '2h', '1d'")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION.total_seconds():  # also keeps timedelta from overflowing
        raise TimeProblem(f"'{text}' is longer than {MAX_DURATION.days} days",
                          f"at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


def rate(text: str) -> tuple[int, float]:
    """`30/h` -> (30, 3600.0): at most 30 sends per 3600 seconds."""
    count, unit = text.split("/")
    return int(count), float(_UNITS[unit])


@cache
def zone(name: str) -> tzinfo:
    """The IANA zone `name`; TimeProblem with a suggestion when it does not exist."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        close = difflib.get_close_matches(name, sorted(_zone_names()), n=1, cutoff=0.7)
        hint = f"did you mean '{close[0]}'?" if close else "use an IANA name such as 'Europe/Berlin'"
        raise TimeProblem(f"unknown time zone '{name}'", hint) from None


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def resolve_exact(wall: datetime, tz: tzinfo) -> datetime:
    """The one instant the wall time names in `tz`, or TimeProblem if it names none or two."""
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    shown = f"{wall:%Y-%m-%d} {_clock(wall)}"
    if first.utcoffset() != second.utcoffset():
        earlier, later = sorted((first, second), key=lambda d: d.astimezone(UTC))
        if _round_trips(first):
            raise TimeProblem(
                f"{shown} happens twice in {tz}: clocks go back that night",
                f"add the offset: '{_iso(earlier)}' for the first, '{_iso(later)}' for the second",
            )
        after = (first.astimezone(UTC)).astimezone(tz)
        gap = _length(abs(first.astimezone(UTC) - second.astimezone(UTC)))
        raise TimeProblem(
            f"{shown} does not exist in {tz}: clocks skip forward that night",
            f"use {_clock(after)} or a time outside the skipped {gap}",
        )
    return first


def resolve_wall(wall: datetime, tz: tzinfo) -> datetime:
    """The instant of a recurring wall time. A skipped time moves forward by the gap; a
    repeated one takes the instant its `fold` names (0, the first, unless the entry was
    written with the offset of the second). Keys are `id@local-date`, so either fires once.
    The result reads as the clock does: a skipped 02:30 comes back as 03:30 CEST."""
    aware = wall.replace(tzinfo=tz)
    if not _round_trips(aware):  # skipped: fold=0 reads it with the offset before the gap
        aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz)


def _round_trips(aware: datetime) -> bool:
    return aware.astimezone(UTC).astimezone(aware.tzinfo).replace(tzinfo=None) == aware.replace(
        tzinfo=None
    )


def _iso(aware: datetime) -> str:
    return aware.isoformat(timespec=_precision(aware))


def _clock(moment: datetime) -> str:
    """`09:00`, or `09:00:30` when the seconds matter (and their fraction, if any)."""
    return moment.time().isoformat(timespec=_precision(moment))


def _precision(moment: datetime) -> str:
    """As precise as the time was written: a hint must name the very same time."""
    if moment.microsecond:
        return "microseconds"
    return "seconds" if moment.second else "minutes"


def _length(gap: timedelta) -> str:
    """`hour`, `30 minutes`, `2 hours`: how much of the night a clock change skips."""
    minutes = int(gap.total_seconds()) // 60
    if minutes % 60:
        return f"{minutes} minutes"
    return "hour" if minutes == 60 else f"{minutes // 60} hours"
