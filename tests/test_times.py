"""Properties of time resolution (runner/calendar/times.py), checked against zoneinfo independently.

A wall time in a zone names one instant, none (the clocks skip over it) or two (the clocks
go back over it). `resolve_exact` must return the one instant with the same wall clock, or
refuse exactly the times that name none or two, with a fix that works. Wall times are drawn
both at random and within two hours of a real transition, where the interesting cases are.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from runner.calendar import times

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
YEARS = (1970, 2040)


def utc_offset(wall: datetime, tz: tzinfo, fold: int) -> timedelta:
    offset = wall.replace(tzinfo=tz, fold=fold).utcoffset()
    assert offset is not None
    return offset


def exists(wall: datetime, tz: tzinfo) -> bool:
    """The clock shows `wall` at some instant: reading it and converting back gives it again."""
    aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def kind_of(wall: datetime, tz: tzinfo) -> str:
    """'one', 'none' (skipped) or 'two' (repeated), from zoneinfo alone."""
    if utc_offset(wall, tz, 0) == utc_offset(wall, tz, 1):
        return "one"
    return "two" if exists(wall, tz) else "none"


@cache
def transitions(name: str, year: int) -> tuple[tuple[datetime, timedelta, timedelta], ...]:
    """(UTC instant, offset before, offset after) of each change of offset in the year."""
    tz, found = ZoneInfo(name), []
    start = datetime(year, 1, 1, tzinfo=UTC)
    days = [start + timedelta(days=n) for n in range(367)]
    for day, next_day in pairwise(days):
        if day.astimezone(tz).utcoffset() == next_day.astimezone(tz).utcoffset():
            continue
        low, high = day, next_day  # bisect to the minute of the change
        while high - low > timedelta(minutes=1):
            middle = low + timedelta(minutes=(high - low) // timedelta(minutes=2))
            same = middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset()
            low, high = (middle, high) if same else (low, middle)
        before, after = low.astimezone(tz).utcoffset(), high.astimezone(tz).utcoffset()
        assert before is not None and after is not None
        found.append((high, before, after))
    return tuple(found)


walls = st.datetimes(min_value=datetime(YEARS[0], 1, 1), max_value=datetime(YEARS[1], 12, 31))


@st.composite
def near_transition(draw: st.DrawFn) -> tuple[datetime, str]:
    """A wall time within two hours of a clock change, in a zone that has them."""
    name = draw(st.sampled_from(ZONES[:3]))
    year = draw(st.integers(*YEARS))
    found = transitions(name, year)
    assume(found)
    instant, before, _ = draw(st.sampled_from(found))
    wall = (instant + before).replace(tzinfo=None)  # the clock's reading as it changes
    minutes = draw(st.integers(-120, 120))
    seconds = draw(st.sampled_from((0, 0, 0, 30)))
    return wall + timedelta(minutes=minutes, seconds=seconds), name


cases = st.one_of(st.tuples(walls, st.sampled_from(ZONES)), near_transition())


@settings(max_examples=400, deadline=None)
@given(cases)
@example((datetime(2027, 3, 28, 2, 30), "Europe/Berlin"))  # skipped
@example((datetime(2026, 11, 1, 1, 30), "America/New_York"))  # repeated
@example((datetime(2026, 10, 4, 2, 15), "Australia/Lord_Howe"))  # skipped half hour
@example((datetime(2027, 4, 4, 1, 45), "Australia/Lord_Howe"))  # repeated half hour
def test_resolve_exact_returns_the_wall_time_or_refuses_exactly_when_ambiguous(
        case: tuple[datetime, str]) -> None:
    wall, name = case
    tz = times.zone(name)
    kind = kind_of(wall, tz)
    if kind == "one":
        resolved = times.resolve_exact(wall, tz)
        assert resolved.tzinfo is tz
        assert resolved.replace(tzinfo=None) == wall
        assert resolved.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
        return
    with pytest.raises(times.TimeProblem) as refused:
        times.resolve_exact(wall, tz)
    if kind == "two":
        assert "happens twice" in str(refused.value)
        _both_offsets_in_the_hint_name_the_wall_time(refused.value.hint, wall, tz)
    else:
        assert "does not exist" in str(refused.value)
        _the_suggested_time_exists(refused.value.hint, wall, tz)


def _both_offsets_in_the_hint_name_the_wall_time(hint: str, wall: datetime, tz: tzinfo) -> None:
    first, second = re.findall(r"'([^']+)'", hint)
    instants = [times.parse(text) for text in (first, second)]
    assert all(w.offset is not None for w in instants)
    aware = [w.wall.replace(tzinfo=w.offset) for w in instants]
    assert aware[0] < aware[1]  # the first, then the second
    assert [a.astimezone(tz).replace(tzinfo=None) for a in aware] == [wall, wall]


def _the_suggested_time_exists(hint: str, wall: datetime, tz: tzinfo) -> None:
    clock = re.match(r"use (\d\d):(\d\d)(?::(\d\d))? ", hint)
    assert clock is not None, hint
    hour, minute, second = (int(part or 0) for part in clock.groups())
    suggested = wall.replace(hour=hour, minute=minute, second=second)
    assert suggested > wall
    assert kind_of(suggested, tz) == "one"
    # It is the instant the skipped time would have been: as far past the gap's start.
    gap = utc_offset(wall, tz, 1) - utc_offset(wall, tz, 0)
    assert suggested - wall == abs(gap)


@settings(max_examples=300, deadline=None)
@given(cases)
def test_resolve_wall_always_gives_an_instant_the_clock_shows(case: tuple[datetime, str]) -> None:
    wall, name = case
    tz = times.zone(name)
    for fold in (0, 1):
        local = times.resolve_wall(wall.replace(fold=fold), tz)
        shown = local.replace(tzinfo=None)
        assert exists(shown, tz)  # never a reading the clock skipped
        if kind_of(wall, tz) == "none":  # moved forward by the gap, whatever the fold
            assert shown - wall == abs(utc_offset(wall, tz, 1) - utc_offset(wall, tz, 0))
        else:  # the wall time itself; of two instants, the one its fold names
            assert shown == wall
            assert local.utcoffset() == utc_offset(wall, tz, fold)


offsets = st.one_of(
    st.none(), st.just("Z"),
    st.builds(lambda sign, h, m: f"{sign}{h:02d}:{m:02d}", st.sampled_from("+-"),
              st.integers(0, 11), st.sampled_from((0, 30, 45))),
)
written_walls = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9998, 12, 31))


@given(written_walls, st.sampled_from((" ", "T")), st.booleans(), offsets)
def test_parse_reads_back_what_was_written(wall: datetime, sep: str, seconds: bool,
                                           offset: str | None) -> None:
    wall = wall.replace(microsecond=0) if seconds else wall.replace(second=0, microsecond=0)
    text = wall.strftime(f"%Y-%m-%d{sep}%H:%M" + (":%S" if seconds else "")) + (offset or "")
    written = times.parse(text)
    assert written.wall == wall
    assert written.has_time
    assert written.offset == (None if offset is None else timezone(_offset(offset)))


def _offset(text: str) -> timedelta:
    if text == "Z":
        return timedelta(0)
    hours, minutes = text[1:].split(":")
    return timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if text[0] == "-" else 1)


@given(st.dates(min_value=datetime(1970, 1, 1).date(), max_value=datetime(9998, 12, 31).date()))
def test_parse_reads_a_day_as_its_midnight(day: object) -> None:
    written = times.parse(str(day))
    assert (written.wall.date(), written.wall.time().isoformat(), written.has_time) == (
        day, "00:00:00", False)


@given(st.integers(1, 9999), st.integers(1, 12), st.integers(1, 31))
def test_parse_refuses_days_that_do_not_exist(year: int, month: int, day: int) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d} 09:00"
    try:
        real = datetime(year, month, day)
    except ValueError:
        real = None
    if real is not None and year in times.YEARS:
        assert times.parse(text).wall == real.replace(hour=9)
        return
    with pytest.raises(times.TimeProblem) as refused:
        times.parse(text)
    assert text in str(refused.value)


@given(st.integers(0, 99), st.integers(0, 99), st.sampled_from("+-"))
def test_offsets_outside_minus_12_to_plus_14_are_refused(hours: int, minutes: int, sign: str) -> None:
    text = f"2026-12-01T09:00{sign}{hours:02d}:{minutes:02d}"
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    if minutes < 60 and timedelta(hours=-12) <= offset <= timedelta(hours=14):
        assert times.parse(text).offset == timezone(offset)
    else:
        with pytest.raises(times.TimeProblem):
            times.parse(text)


@pytest.mark.parametrize("text", ["09:00", "2026-12-01 9:00", "01.12.2026", "2026-12-01T09",
                                  "2026-12-01 09:00 CET", ""])
def test_parse_refuses_other_forms_with_the_form_to_use(text: str) -> None:
    with pytest.raises(times.TimeProblem) as refused:
        times.parse(text)
    assert refused.value.hint == "write 'YYYY-MM-DD HH:MM', e.g. '2026-12-01 09:00'"


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@given(st.integers(0, 10**12), st.sampled_from(sorted(UNITS)))
def test_durations_are_whole_units_up_to_366_days(count: int, unit: str) -> None:
    seconds = count * UNITS[unit]
    if seconds <= 366 * 86400:
        assert times.duration(f"{count}{unit}") == timedelta(seconds=seconds)
    else:
        with pytest.raises(times.TimeProblem, match="longer than 366 days"):
            times.duration(f"{count}{unit}")


@pytest.mark.parametrize("text", ["15", "15 m", "1.5h", "-1m", "1w", "m", ""])
def test_durations_in_other_forms_are_refused(text: str) -> None:
    with pytest.raises(times.TimeProblem, match="is not a duration"):
        times.duration(text)


@pytest.mark.parametrize(("name", "hint"), [
    ("Europe/Berln", "did you mean 'Europe/Berlin'?"),
    ("america/new_york", "did you mean 'America/New_York'?"),
    ("Mars/Olympus_Mons", "use an IANA name such as 'Europe/Berlin'"),
    ("../../etc/passwd", "use an IANA name such as 'Europe/Berlin'"),
])
def test_unknown_zones_are_refused_with_a_suggestion(name: str, hint: str) -> None:
    with pytest.raises(times.TimeProblem) as refused:
        times.zone(name)
    assert (str(refused.value), refused.value.hint) == (f"unknown time zone '{name}'", hint)


def test_transitions_helper_finds_the_real_changes() -> None:
    """The near-transition strategy is only as good as this helper."""
    (spring, before, after), (autumn, *_) = transitions("Europe/Berlin", 2027)
    assert (spring, before, after) == (datetime(2027, 3, 28, 1, tzinfo=UTC), timedelta(hours=1),
                                       timedelta(hours=2))
    assert autumn == datetime(2027, 10, 31, 1, tzinfo=UTC)
    assert transitions("Asia/Kolkata", 2027) == ()
    howe = transitions("Australia/Lord_Howe", 2027)
    assert [a - b for _, b, a in howe] == [timedelta(minutes=-30), timedelta(minutes=30)]
