"""What fell due while the daemon was down or an edit moved, and what an edit removed.

At start (and after each edit, for the entries it changed) occurrences already due are
handed to the workers, which send them within grace or record them `missed`. The window
reaches back 7 days, or to the ledger's last record when pushcal was down for longer, so
every occurrence that fell due meanwhile ends in a row however long ago.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from runner.calendar import Calendar, Occurrence, expand, occurrence
from runner.daemon.horizon import Wanted
from runner.daemon.workers import Job
from runner.ledger import SETTLED, State

if TYPE_CHECKING:
    from runner.daemon.service import Daemon


def catch_up(daemon: Daemon, before: Calendar | None = None,
             changed: set[str] | None = None, *, last_seen: datetime | None = None) -> None:
    """Occurrences that fell due while the daemon was down, or that an edit moved into
    the past (those not already due in the calendar `before` it): within grace they are
    sent once, late; beyond it the worker records them `missed`. After an edit only the
    `changed` entries can have moved. `last_seen`: the ledger's last record before this
    start wrote anything (recovering a crash's rows records events now)."""
    now = daemon.clock.now()
    since = now - daemon.lookback
    last = (last_seen or daemon.ledger.last_activity()) if before is None else None
    if last is not None and last < since:
        # Down for longer than the lookback: everything since pushcal last recorded
        # anything still ends in a row (`missed`, beyond its grace), however long ago.
        since = last

    def occurrences(cal: Calendar) -> list[Occurrence]:
        only = None if changed is None else iter(
            [cal.entries[i] for i in sorted(changed) if i in cal.entries])
        return expand(cal, since, now, entries=only)

    known = set() if before is None else {(o.key, o.account, o.due)
                                          for o in occurrences(before)}
    candidates = [o for o in occurrences(daemon.calendar)
                  if (o.key, o.account, o.due) not in known]
    settled = daemon.ledger.keys_in(SETTLED, keys={o.key for o in candidates}) if candidates \
        else set()
    late = [o for o in candidates if (o.key, o.account) not in settled]
    for occ in late:
        daemon.workers.put(Job(occ))
    if late:
        daemon.log("catching-up", occurrences=len(late), since=since)


def cancel_vanished(daemon: Daemon, pending: Wanted, changed: set[str]) -> None:
    """Record `cancelled` for what an edit removed (or disabled) before it fired."""
    for (key, account), occ in pending.items():
        if occ.entry not in changed or (key, account) in daemon.jobs.pending:
            continue
        if occurrence(daemon.calendar, key, account) is not None:
            continue  # moved beyond the horizon, not removed
        why = "removed from the calendar or disabled before it fired"
        if daemon.ledger.mark(key, entry=occ.entry, account=account, scheduled=occ.due,
                            endpoint="", state=State.CANCELLED, info=f"cancelled: {why}"):
            daemon.log("cancelled", entry=occ.entry, key=key, account=account,
                     due=occ.due, reason=why)
