"""What a run tells about itself: what it recorded, and when it fires next.

A run's counts compare every row with a snapshot taken at start, not by time: a rehearsal
may replay a window whose times an earlier run already recorded.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, tzinfo

from runner.clock import local_text
from runner.ledger import Ledger, Row

Snapshot = dict[tuple[str, str], tuple[object, ...]]


def snapshot(ledger: Ledger) -> Snapshot:
    """Each row's mark, to tell later which rows this run touched."""
    return {(row.key, row.account): _mark(row) for row in ledger.rows()}


def this_run(ledger: Ledger, before: Snapshot) -> dict[str, int]:
    """Rows added or changed since `before`, per state."""
    counts = Counter(str(row.state) for row in ledger.rows()
                     if before.get((row.key, row.account)) != _mark(row))
    return dict(sorted(counts.items()))


def next_firing(due: datetime | None, tz: tzinfo | None) -> dict[str, object]:
    """The next firing as a UTC instant and as the calendar's local time, for the log."""
    if due is None:
        return {"next": None}
    return {"next": due, "next_local": local_text(due.astimezone(tz)) if tz else None}


def _mark(row: Row) -> tuple[object, ...]:
    """What changes in a row when a run touches it."""
    return (row.state, row.attempts, row.finished, row.info)
