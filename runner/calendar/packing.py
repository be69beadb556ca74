"""An entry as compact bytes for its file's record, and back, exactly.

`marshal` of plain values: about two thirds of a pickle's size (no class paths, no file name
in every entry) and quicker to read, for the 200,000 entries a large calendar holds. The id
and file are the record's, so they are given back rather than stored.
"""

from __future__ import annotations

import marshal
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from runner.calendar.model import Entry, Kind, Repeat

_KINDS = {kind.value: kind for kind in Kind}
Plain = Any  # what marshal writes: None, bool, int, float, str, tuple, list, dict, frozenset


def pack(entry: Entry) -> bytes:
    return marshal.dumps((
        entry.kind.value, entry.line, _zone(entry.tz), _wall(entry.start), entry.to,
        dict(entry.fields), {name: dict(fields) for name, fields in entry.overrides.items()},
        _repeat(entry.repeat), _duration(entry.grace), entry.enabled, entry.digest))


def unpack(held: bytes, entry_id: str, file: str) -> Entry:
    (kind, line, zone, start, to, fields, overrides, repeat, grace, enabled,
     digest) = marshal.loads(held)
    return Entry(id=entry_id, kind=_KINDS[kind], file=file, line=line, tz=_zone_back(zone),
                 start=_wall_back(start), to=to, fields=fields, overrides=overrides,
                 repeat=_repeat_back(repeat), grace=_duration_back(grace), enabled=enabled,
                 digest=digest)


def _zone(tz: tzinfo) -> Plain:
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = tz.utcoffset(None)
    assert isinstance(tz, timezone) and offset is not None, tz
    return _duration(offset)


def _zone_back(zone: Plain) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else timezone(_duration_back(zone))


def _duration(span: timedelta) -> Plain:
    return span.days, span.seconds, span.microseconds


def _duration_back(span: Plain) -> timedelta:
    return timedelta(*span)


def _wall(moment: datetime) -> Plain:
    """A naive wall time, its fold kept (equality ignores it, the instant does not)."""
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
            moment.microsecond, moment.fold)


def _wall_back(parts: Plain) -> datetime:
    *fields, fold = parts
    return datetime(*fields, fold=fold)


def _instant(moment: datetime | None) -> Plain:
    if moment is None:
        return None
    return _wall(moment.replace(tzinfo=None)), _zone(moment.tzinfo) if moment.tzinfo else None


def _instant_back(parts: Plain) -> datetime | None:
    if parts is None:
        return None
    wall, zone = parts
    return _wall_back(wall).replace(tzinfo=None if zone is None else _zone_back(zone))


def _repeat(rule: Repeat | None) -> Plain:
    if rule is None:
        return None
    return (rule.every, rule.interval, rule.on, _instant(rule.until), rule.count,
            frozenset((d.year, d.month, d.day) for d in rule.skip_days),
            frozenset(_wall(t) for t in rule.skip_times), _instant(rule.until_instant))


def _repeat_back(parts: Plain) -> Repeat | None:
    if parts is None:
        return None
    every, interval, on, until, count, days, times, until_instant = parts
    return Repeat(every, interval, on, _instant_back(until), count,
                  frozenset(date(*d) for d in days), frozenset(_wall_back(t) for t in times),
                  _instant_back(until_instant))
