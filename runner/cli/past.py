"""One-offs dated in the past: said by validate, plan and the daemon, never just skipped.

A one-off whose time (plus its grace) has passed before it was sent is usually a typo in
the year. It is a warning, not an error: a calendar keeps what already happened. To say so
explicitly, and silence the warning, set `enabled: false` on it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from runner.calendar import Calendar
from runner.calendar.model import Entry
from runner.clock import local_text
from runner.errors import Problem

ALREADY_HAPPENED = "if it already happened, set `enabled: false` on it"


@dataclass(frozen=True)
class Past:
    """An enabled one-off whose time has passed."""

    entry: Entry
    due: datetime

    def problem(self) -> Problem:
        """The warning, at the entry's place."""
        return Problem(self.entry.file, self.entry.line, 1, "", (
            f"warning: {self.entry.id} is at {local_text(self.due)}, in the past: it will "
            "never be sent on its own (a typo in the year?)"), ALREADY_HAPPENED)


def past_one_offs(cal: Calendar, now: datetime,
                  recorded: Collection[str] = ()) -> list[Past]:
    """Enabled one-offs due (with their grace) before `now`, except the ids in `recorded`."""
    found = []
    for entry_id, summary in cal.entries.summaries():
        if summary.repeats or not summary.enabled or entry_id in recorded:
            continue
        if summary.earliest + summary.grace >= now:
            continue  # certainly not past: left unread
        entry = cal.entries[entry_id]
        due = entry.start.replace(tzinfo=entry.tz)
        if due + entry.grace < now:
            found.append(Past(entry, due))
    return found
