"""What a run tells about itself: what it recorded, and when it fires next.

A run's counts compare rows with a snapshot taken at start, not by time: a rehearsal may
replay a window whose times an earlier run already recorded. The snapshot holds the rows a
run can change (due since as far back as its catch-up looks, or still open), never a
million rows of settled history (reading them all made a start take seconds at that size).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from runner.clock import local_text
from runner.ledger import Ledger, Row, State

Pair = tuple[str, str]
_OPEN = frozenset({State.PLANNED, State.SENDING, State.RETRY_WAIT, State.ACCEPTED})


@dataclass(frozen=True)
class Snapshot:
    """The rows a run can change, each with its state and mark, and the window they span."""

    since: datetime
    rows: dict[Pair, tuple[State, tuple[object, ...]]]


def snapshot(ledger: Ledger, started: datetime, lookback: timedelta) -> Snapshot:
    """The rows due since the catch-up's furthest look back (a day's margin), and the open
    ones; what a run records lies among them at its end."""
    last = ledger.last_activity()
    since = min(started - lookback, last or started) - timedelta(days=1)
    return Snapshot(since, _touchable(ledger, since))


def this_run(ledger: Ledger, before: Snapshot | None) -> dict[str, int]:
    """Rows added or changed since `before`, per state."""
    if before is None:
        return {}
    now = _touchable(ledger, before.since)
    for pair in before.rows.keys() - now.keys():  # open at the start, settled and old since
        row = ledger.get(*pair)
        if row is not None:
            now[pair] = (row.state, _mark(row))
    counts = Counter(str(state) for pair, (state, mark) in now.items()
                     if before.rows.get(pair, (None, None))[1] != mark)
    return dict(sorted(counts.items()))


def _touchable(ledger: Ledger, since: datetime) -> dict[Pair, tuple[State, tuple[object, ...]]]:
    rows = [*ledger.rows(since=since), *ledger.rows(states=_OPEN)]
    return {(row.key, row.account): (row.state, _mark(row)) for row in rows}


def next_firing(due: datetime | None, tz: tzinfo | None) -> dict[str, object]:
    """The next firing as a UTC instant and as the calendar's local time, for the log."""
    if due is None:
        return {"next": None}
    return {"next": due, "next_local": local_text(due.astimezone(tz)) if tz else None}


def _mark(row: Row) -> tuple[object, ...]:
    """What changes in a row when a run touches it."""
    return (row.state, row.attempts, row.finished, row.info)
