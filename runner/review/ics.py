"""The schedule as an RFC 5545 feed (the only user of the `icalendar` library).

One VEVENT per (occurrence, account). Its UID comes from the ledger key and the account,
so it is the same in every run and survives edits of time and text: a subscribed Google
Calendar or Outlook moves or rewords the event instead of adding a second one. Times are
in the calendar's zone, with a VTIMEZONE for it covering the window; a sent delivery's post
URL is the event's URL, and a cancelled one is `STATUS:CANCELLED`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

import icalendar

from runner import __version__
from runner.ledger.contract import Row, State
from runner.review.schedule import Slot, SlotKey, first_line
from runner.review.states import KIND_NAMES

LENGTH = timedelta(minutes=15)  # a post has no length; a short block shows it in a day view
SUMMARY_CHARS = 80


def uid(slot: Slot) -> str:
    """The event's UID: the ledger key and the account, which edits do not change."""
    return f"{slot.occurrence.key}/{slot.occurrence.account}@pushcal"


def feed(slots: Sequence[Slot], tz: tzinfo | None, rows: Mapping[SlotKey, Row] | None,
         title: str, now: datetime) -> bytes:
    """The feed's bytes (CRLF lines, folded at 75 octets, as RFC 5545 says)."""
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//pushcal//pushcal {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", title)
    if tz is not None:
        cal.add("x-wr-timezone", str(tz))
    for slot in slots:
        cal.add_component(_event(slot, tz, rows.get(slot.key) if rows is not None else None, now))
    if slots:
        # a year either side: the zone's rules around the window, both DST changes included
        first = min(s.occurrence.due for s in slots).date() - timedelta(days=366)
        last = max(s.occurrence.due for s in slots).date() + timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return bytes(cal.to_ical())


def _event(slot: Slot, tz: tzinfo | None, row: Row | None, now: datetime) -> icalendar.Event:
    start = slot.local.astimezone(tz) if tz is not None else slot.local
    account = f"{slot.occurrence.account} ({slot.provider})"
    event = icalendar.Event()
    event.add("uid", uid(slot))
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", start + LENGTH)
    event.add("summary", f"{account}: {_short(first_line(slot.text) or slot.occurrence.entry)}")
    event.add("description", _description(slot, row))
    event.add("categories", [slot.provider, KIND_NAMES.get(slot.kind, slot.kind)])
    event.add("status", "CANCELLED" if row is not None and row.state is State.CANCELLED else "CONFIRMED")
    if row is not None and row.state is State.SENT and row.location:
        event.add("url", row.location)
    return event


def _description(slot: Slot, row: Row | None) -> str:
    lines = [slot.text, ""] if slot.text else []
    lines += [f"media: {url}" for url in slot.media]
    lines += [f"{name}: {value}" for name, value in sorted(slot.details.items())]
    lines.append(f"{KIND_NAMES.get(slot.kind, slot.kind)} {slot.occurrence.key} to "
                 f"{slot.occurrence.account} ({slot.provider}), {slot.file}:{slot.line}")
    if row is not None:
        reason = f": {row.info}" if row.state in (State.FAILED, State.MISSED) and row.info else ""
        lines.append(f"state: {row.state}{reason}")
    return "\n".join(lines)


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"
