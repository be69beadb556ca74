"""Expansion: calendar + window -> sorted occurrences with stable keys, wall times kept across DST.

Unit tests build calendars from YAML through the real loader and builder; the hypothesis
properties build `Entry` records directly so they can reach any start, rule and zone
(including wall times the builder would refuse for a one-off, such as ones inside a gap).
"""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.calendar import Account, Calendar, Entry, Kind, Occurrence, Repeat, expand, occurrence
from runner.calendar.build import build
from runner.calendar.files import load_text
from runner.calendar.table import Entries
from runner.errors import InvalidCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = [ZoneInfo(name) for name in (
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
    "America/Santiago")]

HEADER = """\
version: 1
timezone: Europe/Berlin
accounts:
  page: {provider: facebook, identity: 923843ec-1749-4cc1-988f-d6963f3b1baa, page: "4563453"}
  x:    {provider: twitter, identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}
"""


def calendar(entries: str) -> Calendar:
    return build([load_text(HEADER + textwrap.dedent(entries), "cal.yaml")])


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc, arg-type]


def keys(occurrences: list[Occurrence]) -> list[str]:
    return [o.key for o in occurrences]


def daily(extra: str, at: str = "2026-12-01 09:00") -> Calendar:
    return calendar(f"""
        posts:
          - {{id: d, at: "{at}", to: [x], message: "m", repeat: {{every: day, {extra}}}}}
    """)


WHOLE_WINTER = (utc(2026, 11, 1), utc(2027, 3, 1))


# -- keys, windows, order --------------------------------------------------------------------

def test_one_off_key_is_the_id_and_due_is_utc() -> None:
    cal = calendar("""
        posts:
          - {id: launch, at: "2026-12-01 09:00", to: [page, x], message: "Live"}
    """)
    found = expand(cal, *WHOLE_WINTER)
    assert [(o.key, o.account, o.entry, o.due) for o in found] == [
        ("launch", "page", "launch", utc(2026, 12, 1, 8)),
        ("launch", "x", "launch", utc(2026, 12, 1, 8)),
    ]
    assert found[0].local == datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    assert found[0].local.utcoffset() == timedelta(hours=1)
    assert found[0].grace == timedelta(minutes=15)


def test_one_off_with_an_offset_keeps_its_instant() -> None:
    cal = calendar("""
        posts:
          - {id: blog, at: "2026-12-01T14:30:00+01:00", to: [page], message: "Blog"}
    """)
    assert [(o.key, o.due) for o in expand(cal, *WHOLE_WINTER)] == [("blog", utc(2026, 12, 1, 13, 30))]


def test_recurring_keys_are_the_id_and_the_local_wall_time() -> None:
    found = expand(daily("count: 3"), *WHOLE_WINTER)
    assert keys(found) == ["d@2026-12-01", "d@2026-12-02", "d@2026-12-03"]
    assert [o.due for o in found] == [utc(2026, 12, 1, 8), utc(2026, 12, 2, 8), utc(2026, 12, 3, 8)]


def test_recurring_key_shows_seconds_only_when_given() -> None:
    found = expand(daily("count: 2", at="2026-12-01 09:00:30"), *WHOLE_WINTER)
    assert keys(found) == ["d@2026-12-01", "d@2026-12-02"]


def test_window_includes_its_start_and_excludes_its_end() -> None:
    cal = daily("count: 5")
    found = expand(cal, utc(2026, 12, 2, 8), utc(2026, 12, 4, 8))
    assert keys(found) == ["d@2026-12-02", "d@2026-12-03"]
    assert expand(cal, utc(2026, 12, 2, 8, 0, 1), utc(2026, 12, 2, 9)) == []


def test_disabled_entries_are_skipped() -> None:
    cal = calendar("""
        posts:
          - {id: off, at: "2026-12-01 09:00", to: [x], message: "m", enabled: false}
          - {id: on,  at: "2026-12-01 10:00", to: [x], message: "m"}
    """)
    assert keys(expand(cal, *WHOLE_WINTER)) == ["on"]


def test_output_is_sorted_by_time_then_key_then_account_across_entries_and_files() -> None:
    cal = calendar("""
        posts:
          - {id: late,  at: "2026-12-01 12:00", to: [x, page], message: "m"}
          - {id: b-tie, at: "2026-12-01 09:00", to: [x, page], message: "m"}
          - {id: a-tie, at: "2026-12-01 09:00", to: [x], message: "m"}
          - {id: early, at: "2026-12-01 08:00", to: [x], message: "m", repeat: {every: day, count: 2}}
    """)
    assert [(o.key, o.account) for o in expand(cal, *WHOLE_WINTER)] == [
        ("early@2026-12-01", "x"),
        ("a-tie", "x"),
        ("b-tie", "page"), ("b-tie", "x"),
        ("late", "page"), ("late", "x"),
        ("early@2026-12-02", "x"),
    ]


def test_entry_timezone_overrides_the_files() -> None:
    cal = calendar("""
        posts:
          - {id: ny, at: "2026-12-01 09:00", timezone: America/New_York, to: [x], message: "m",
             repeat: {every: day, count: 1}}
    """)
    (occ,) = expand(cal, *WHOLE_WINTER)
    assert (occ.key, occ.due) == ("ny@2026-12-01", utc(2026, 12, 1, 14))


def test_entry_grace_is_carried() -> None:
    cal = calendar("""
        posts:
          - {id: g, at: "2026-12-01 09:00", to: [x], message: "m", grace: 2h}
    """)
    assert [o.grace for o in expand(cal, *WHOLE_WINTER)] == [timedelta(hours=2)]


# -- rules -----------------------------------------------------------------------------------

def test_every_day_with_an_interval() -> None:
    found = expand(daily("interval: 3, count: 4"), *WHOLE_WINTER)
    assert keys(found) == ["d@2026-12-01", "d@2026-12-04", "d@2026-12-07",
                           "d@2026-12-10"]


def test_every_week_on_days_starts_at_the_first_occurrence() -> None:
    # 2026-12-03 is a Thursday: Monday of that week is before `at`, so the first is Thu the 3rd.
    cal = calendar("""
        posts:
          - {id: w, at: "2026-12-03 08:15", to: [x], message: "m",
             repeat: {every: week, on: [thu, mon], until: "2026-12-15"}}
    """)
    assert keys(expand(cal, *WHOLE_WINTER)) == [
        "w@2026-12-03", "w@2026-12-07", "w@2026-12-10", "w@2026-12-14"]


def test_every_week_defaults_to_the_weekday_of_at_and_honours_interval() -> None:
    cal = calendar("""
        posts:
          - {id: w, at: "2026-12-02 10:00", to: [x], message: "m",
             repeat: {every: week, interval: 2, count: 3}}
    """)
    assert keys(expand(cal, *WHOLE_WINTER)) == [
        "w@2026-12-02", "w@2026-12-16", "w@2026-12-30"]


def test_every_month_on_the_31st_skips_short_months() -> None:
    cal = calendar("""
        posts:
          - {id: m, at: "2027-01-31 12:00", to: [x], message: "m", repeat: {every: month, count: 4}}
    """)
    found = expand(cal, utc(2027, 1, 1), utc(2028, 1, 1))
    assert keys(found) == ["m@2027-01-31", "m@2027-03-31", "m@2027-05-31",
                           "m@2027-07-31"]
    # Winter and summer time both keep 12:00 local.
    assert [o.due.hour for o in found] == [11, 10, 10, 10]


def test_every_month_with_an_interval() -> None:
    cal = calendar("""
        posts:
          - {id: m, at: "2026-11-15 12:00", to: [x], message: "m",
             repeat: {every: month, interval: 5, until: "2027-12-31"}}
    """)
    assert keys(expand(cal, utc(2026, 1, 1), utc(2029, 1, 1))) == [
        "m@2026-11-15", "m@2027-04-15", "m@2027-09-15"]


def test_count_counts_the_excepted_occurrences() -> None:
    found = expand(daily('count: 5, except: ["2026-12-02", "2026-12-04 09:00"]'), *WHOLE_WINTER)
    assert keys(found) == ["d@2026-12-01", "d@2026-12-03", "d@2026-12-05"]


def test_until_is_inclusive_as_a_time_and_as_a_whole_day() -> None:
    assert keys(expand(daily('until: "2026-12-03 09:00"'), *WHOLE_WINTER))[-1] == "d@2026-12-03"
    assert keys(expand(daily('until: "2026-12-03 08:59"'), *WHOLE_WINTER))[-1] == "d@2026-12-02"
    assert keys(expand(daily('until: "2026-12-03"'), *WHOLE_WINTER)) == [
        "d@2026-12-01", "d@2026-12-02", "d@2026-12-03"]


def test_except_a_time_skips_only_that_time() -> None:
    found = expand(daily('count: 3, except: ["2026-12-02 09:00"]'), *WHOLE_WINTER)
    assert keys(found) == ["d@2026-12-01", "d@2026-12-03"]


def test_an_except_time_that_is_no_occurrence_is_refused() -> None:
    with pytest.raises(InvalidCalendar) as caught:
        daily('count: 3, except: ["2026-12-03 10:00"]')
    assert [p.message for p in caught.value.problems] == [
        "'2026-12-03 10:00' is not an occurrence of this entry, so skipping it changes nothing"]


def test_forever_runs_to_the_end_of_any_window() -> None:
    found = expand(daily("forever: true"), utc(2030, 6, 1), utc(2030, 6, 4))
    assert keys(found) == ["d@2030-06-01", "d@2030-06-02", "d@2030-06-03"]


# -- DST, with the real builder --------------------------------------------------------------

def test_daily_0230_in_berlin_fires_once_on_both_transition_nights() -> None:
    cal = daily('until: "2027-11-30"', at="2027-03-20 02:30")
    found = {o.key: o for o in expand(cal, utc(2027, 3, 1), utc(2027, 12, 1))}
    spring = found["d@2027-03-28"]  # 02:00 -> 03:00: 02:30 does not exist
    assert spring.due == utc(2027, 3, 28, 1, 30)
    assert spring.due.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"
    autumn = found["d@2027-10-31"]  # 03:00 -> 02:00: 02:30 happens twice; the first
    assert autumn.due == utc(2027, 10, 31, 0, 30)
    assert [k for k in found if k.startswith(("d@2027-03-28", "d@2027-10-31"))] == [
        "d@2027-03-28", "d@2027-10-31"]


def test_an_entry_first_at_the_second_0230_moves_forward_on_the_spring_night() -> None:
    cal = calendar("""
        posts:
          - {id: d, at: "2026-10-25T02:30:00+01:00", to: [x], message: "m",
             repeat: {every: day, forever: true}}
    """)
    first = expand(cal, utc(2026, 10, 25), utc(2026, 10, 26))
    assert [(o.key, o.due) for o in first] == [("d@2026-10-25", utc(2026, 10, 25, 1, 30))]
    spring = expand(cal, utc(2027, 3, 28), utc(2027, 3, 29))
    assert [(o.key, o.due) for o in spring] == [("d@2027-03-28", utc(2027, 3, 28, 1, 30))]
    assert spring[0].due.astimezone(BERLIN).strftime("%H:%M") == "03:30"


# -- properties ------------------------------------------------------------------------------

def entry(start: datetime, tz: tzinfo, repeat: Repeat | None, to: tuple[str, ...] = ("x",),
          entry_id: str = "e") -> Entry:
    return Entry(id=entry_id, kind=Kind.POST, file="p.yaml", line=1, tz=tz, start=start, to=to,
                 fields={"message": "m"}, repeat=repeat)


def calendar_of(*entries: Entry) -> Calendar:
    accounts = {name: Account(name, "twitter", "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11")
                for e in entries for name in e.to}
    return Calendar(accounts, {}, Entries.of(entries), digest="test")


# fold=1 is what the builder gives an entry written with the offset of a repeated hour's second
# instant; it is carried to every later wall.
walls_ = st.builds(
    lambda d, fold: d.replace(second=0, microsecond=0, fold=fold),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from([0, 0, 1]))


@st.composite
def repeats(draw: st.DrawFn, start: datetime) -> Repeat | None:
    every = draw(st.sampled_from(["none", "day", "week", "month"]))
    if every == "none":
        return None
    end = draw(st.sampled_from(["until", "count", "forever"]))
    until = start + draw(st.timedeltas(timedelta(0), timedelta(days=400))) if end == "until" else None
    on = tuple(sorted(draw(st.sets(st.integers(0, 6), max_size=7)))) if every == "week" else ()
    skip_days = draw(st.frozensets(
        st.dates(start.date(), start.date() + timedelta(days=60)), max_size=5))
    return Repeat(every, draw(st.integers(1, 3)), on, until,
                  draw(st.integers(1, 40)) if end == "count" else None, skip_days)


@st.composite
def entries(draw: st.DrawFn, entry_id: str) -> Entry:
    start = draw(walls_)
    to = tuple(sorted(draw(st.sets(st.sampled_from(["a", "b", "c"]), min_size=1))))
    return entry(start, draw(st.sampled_from(ZONES)), draw(repeats(start)), to, entry_id)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    count = draw(st.integers(1, 4))
    return calendar_of(*(draw(entries(f"e{i}")) for i in range(count)))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Calendar, tuple[datetime, datetime]]:
    """A calendar and a window that usually, not always, overlaps its entries."""
    cal = draw(calendars())
    anchor = draw(st.sampled_from([e.start for e in cal.entries.values()])).replace(tzinfo=UTC)
    start = anchor + draw(st.timedeltas(timedelta(days=-40), timedelta(days=40)))
    return cal, (start, start + draw(st.timedeltas(timedelta(0), timedelta(days=150))))


@settings(deadline=None)
@given(cases())
def test_output_is_sorted_unique_and_inside_the_window(
        case: tuple[Calendar, tuple[datetime, datetime]]) -> None:
    cal, (start, end) = case
    found = expand(cal, start, end)
    assert found == sorted(found)
    assert [o.due for o in found] == sorted(o.due for o in found)
    assert len({(o.key, o.account) for o in found}) == len(found)
    assert all(start <= o.due < end for o in found)
    assert all(o.due.utcoffset() == timedelta(0) and o.local.astimezone(UTC) == o.due for o in found)
    for occ in found:
        e = cal.entries[occ.entry]
        assert occ.account in e.to
        assert occ.key == occ.entry if e.repeat is None else occ.key.startswith(occ.entry + "@")


@settings(deadline=None)
@given(cases(), st.floats(0, 1))
def test_splitting_a_window_anywhere_changes_nothing(
        case: tuple[Calendar, tuple[datetime, datetime]], where: float) -> None:
    cal, (start, end) = case
    middle = start + (end - start) * where
    assert expand(cal, start, middle) + expand(cal, middle, end) == expand(cal, start, end)


@settings(deadline=None)
@given(cases())
def test_splitting_at_each_due_time_changes_nothing(
        case: tuple[Calendar, tuple[datetime, datetime]]) -> None:
    # The sharpest cut: exactly at an occurrence, which must land in the second half only.
    cal, (start, end) = case
    whole = expand(cal, start, end)
    for occ in whole[:5]:
        assert expand(cal, start, occ.due) + expand(cal, occ.due, end) == whole


@settings(deadline=None)
@given(cases())
def test_each_occurrence_can_be_found_again_by_its_key(
        case: tuple[Calendar, tuple[datetime, datetime]]) -> None:
    cal, (start, end) = case
    for occ in expand(cal, start, end)[:10]:
        assert occurrence(cal, occ.key, occ.account) == occ


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def _transitions(tz: tzinfo, year: int) -> list[date]:
    """The days on which the zone's UTC offset at noon differs from the day before."""
    def offset(day: date) -> timedelta | None:
        return datetime(day.year, day.month, day.day, 12, tzinfo=tz).utcoffset()
    return [d for d in _days(year) if offset(d) != offset(d - timedelta(days=1))]


@settings(deadline=None, max_examples=30)
@given(st.sampled_from([BERLIN, NEW_YORK]), st.integers(2000, 2036))
def test_daily_0900_stays_at_0900_local_once_a_day_all_year(tz: tzinfo, year: int) -> None:
    cal = calendar_of(entry(datetime(year - 1, 12, 15, 9), tz, Repeat("day", until=None)))
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    found = expand(cal, start, end)
    locals_ = [o.due.astimezone(tz) for o in found]
    assert [d.date() for d in locals_] == _days(year)  # no day skipped, none doubled
    assert {(d.hour, d.minute) for d in locals_} == {(9, 0)}
    assert len(_transitions(tz, year)) == 2
    assert len({d.utcoffset() for d in locals_}) == 2  # both sides of both transitions covered


@settings(deadline=None, max_examples=30)
@given(st.integers(2000, 2036), st.sampled_from([0, 1]))
def test_berlin_0230_on_both_transition_nights(year: int, fold: int) -> None:
    spring, autumn = _transitions(BERLIN, year)
    start = datetime(year, 1, 1, 2, 30, fold=fold)
    cal = calendar_of(entry(start, BERLIN, Repeat("day", until=None)))
    # The skipped 02:30 always moves forward; the repeated one is the instant `fold` names.
    for night, hours_utc, wall in ((spring, 1, "03:30"), (autumn, fold, "02:30")):
        found = expand(cal, datetime(night.year, night.month, night.day, tzinfo=UTC) - timedelta(hours=3),
                       datetime(night.year, night.month, night.day, tzinfo=UTC) + timedelta(hours=21))
        assert [o.key for o in found] == [f"e@{night.isoformat()}"]
        (occ,) = found
        assert occ.due == datetime(night.year, night.month, night.day, hours_utc, 30, tzinfo=UTC)
        assert occ.due.astimezone(BERLIN).strftime("%H:%M") == wall


@settings(deadline=None, max_examples=30)
@given(st.integers(2008, 2036))
def test_new_york_repeated_and_skipped_hours_fire_once(year: int) -> None:
    # New York repeats 01:00-02:00 in November and skips 02:00-03:00 in March.
    spring, autumn = _transitions(NEW_YORK, year)
    for wall, night, due_utc in (((2, 30), spring, (7, 30)), ((1, 30), autumn, (5, 30))):
        cal = calendar_of(entry(datetime(year, 1, 1, *wall), NEW_YORK, Repeat("day", until=None)))
        midnight = datetime(night.year, night.month, night.day, tzinfo=NEW_YORK).astimezone(UTC)
        found = expand(cal, midnight, midnight + timedelta(hours=24))
        assert [o.key for o in found] == [f"e@{night.isoformat()}"]
        assert found[0].due == datetime(night.year, night.month, night.day, *due_utc, tzinfo=UTC)
