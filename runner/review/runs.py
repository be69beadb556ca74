"""Folding the same change to many occurrences of one repetition into one run, so that
retiming a daily post reads as one line in a pull-request comment, not ninety. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from runner.ledger.contract import Row
from runner.review.changes import Change, What
from runner.review.lines import PLAIN, Style, clock, details
from runner.review.schedule import SlotKey

FOLD_AT = 3  # fewer occurrences alike are shown one by one


@dataclass(frozen=True)
class Run:
    """`count` occurrences of one entry for one account that changed alike; `first` stands
    for them all, `last` is the local time of the last one."""

    first: Change
    count: int
    last: datetime


def runs(changes: Sequence[Change], notes: Mapping[SlotKey, str],
         rows: Mapping[SlotKey, Row] | None = None) -> list[Run]:
    """The changes in their order, each repetition's alike changes folded at the first."""
    states = {key: str(row.state) for key, row in (rows or {}).items()}
    signatures = [_signature(c, notes, states) for c in changes]
    alike = Counter(s for s in signatures if s is not None)
    members: dict[Hashable, list[Change]] = {}
    for change, signature in zip(changes, signatures, strict=True):
        if signature is not None and alike[signature] >= FOLD_AT:
            members.setdefault(signature, []).append(change)
    found: list[Run] = []
    for change, signature in zip(changes, signatures, strict=True):
        group = members.get(signature) if signature is not None else None
        if group is None:
            found.append(Run(change, 1, change.when))
        elif group[0] is change:
            found.append(Run(change, len(group), group[-1].when))
    return found


def run_details(run: Run, style: Style) -> list[tuple[str, str]]:
    """The detail lines of a run: the time without its date when it stands for many."""
    lines = details(run.first, style)
    if run.count == 1:
        return lines
    return [(label, _time(run.first, style) if label == "time" else text) for label, text in lines]


def _time(change: Change, style: Style) -> str:
    old, new = change.before, change.after
    assert old is not None and new is not None
    shift = (new.local.date() - old.local.date()).days
    later = f" ({shift:+d} day{'s' if abs(shift) != 1 else ''})" if shift else ""
    return f"{style.old(clock(old.local))} {style.arrow} {style.new(clock(new.local))}{later}"


def _signature(change: Change, notes: Mapping[SlotKey, str],
               states: Mapping[SlotKey, str]) -> Hashable | None:
    """What makes two changes alike: one repetition, one account, the same change."""
    occ = change.slot.occurrence
    if "@" not in occ.key:
        return None  # a one-off has one occurrence
    time = _time(change, PLAIN) if What.RETIMED in change.what else ""
    lines = tuple((label, text) for label, text in details(change, PLAIN) if label != "time")
    return (occ.entry, occ.account, change.what, time, lines, notes.get(change.key),
            states.get(change.key))
