"""Agenda lines: one per occurrence, grouped by day in the calendar's zone. Pure.

Each line holds the local time, the kind, the key, the accounts with their provider (and,
with a ledger, each account's state) and the first line of the text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from itertools import groupby

from runner.ledger.contract import Row
from runner.review.schedule import Slot, SlotKey, first_line
from runner.review.states import KIND_NAMES, shown_state

_OFF = "\x1b[0m"
_TINTS = {"sent": "\x1b[32m", "failed": "\x1b[31m", "unknown": "\x1b[31m", "missed": "\x1b[33m",
          "cancelled": "\x1b[2m", "retry_wait": "\x1b[33m", "sending": "\x1b[36m"}


def agenda(slots: Sequence[Slot], tz: tzinfo | None, rows: Mapping[SlotKey, Row] | None,
           now: datetime, colour: bool = False) -> str:
    """The agenda text; `slots` sorted by time, `tz` the calendar's zone (None: each entry's)."""
    def paint(code: str, words: str) -> str:
        return f"{code}{words}{_OFF}" if colour and code else words

    def local(slot: Slot) -> datetime:
        return slot.local.astimezone(tz) if tz is not None else slot.local

    out: list[str] = []
    occurrences = [list(group) for _, group in groupby(slots, key=lambda s: s.occurrence.key)]
    kind_width = max((len(KIND_NAMES.get(o[0].kind, o[0].kind)) for o in occurrences), default=0)
    key_width = max((len(o[0].occurrence.key) for o in occurrences), default=0)
    for day, group in groupby(occurrences, key=lambda occ: local(occ[0]).date()):
        zone = f" ({tz})" if tz is not None else ""
        out.append(paint("\x1b[1m", f"{day:%a %Y-%m-%d}{zone}"))
        for occ in group:
            first = occ[0]
            accounts = ", ".join(_account(s, rows, now, paint) for s in occ)
            when = local(first)
            out.append(f"  {paint(chr(27) + '[1m', f'{when:%H:%M} {when.tzname()}')}  "
                       f"{KIND_NAMES.get(first.kind, first.kind):<{kind_width}}  "
                       f"{first.occurrence.key:<{key_width}}  "
                       f"{accounts}  {first_line(first.text)}".rstrip())
    out.append(f"{len(occurrences)} occurrence{'s' if len(occurrences) != 1 else ''}, "
               f"{len(slots)} deliver{'y' if len(slots) == 1 else 'ies'}")
    return "\n".join(out) + "\n"


def _account(slot: Slot, rows: Mapping[SlotKey, Row] | None, now: datetime,
             paint: Callable[[str, str], str]) -> str:
    name = f"{slot.occurrence.account} ({slot.provider})"
    if rows is None:
        return name
    state = shown_state(slot, rows, now)
    return f"{name} {paint(_TINTS.get(state, ''), f'[{state}]')}"
