"""Times written on the command line: ISO 8601 with an offset, or a wall time in a zone."""

from __future__ import annotations

from datetime import datetime

from runner.calendar import times
from runner.calendar.model import Calendar
from runner.cli.context import UsageError


def moment(text: str, cal: Calendar | None, what: str) -> datetime:
    """A command-line time: ISO 8601 with Z or an offset, or a wall time in the calendar's zone."""
    try:
        written = times.parse(text)
        if written.offset is not None:
            return written.wall.replace(tzinfo=written.offset)
        if cal is None or cal.tz is None:
            if cal is None:
                raise UsageError(f"{what} '{text}' has no offset: add Z or an offset such as "
                                 "+01:00, or give the calendar's PATH to read it in its zone")
            raise UsageError(f"{what} '{text}' has no offset and the calendar has no time "
                             "zone; add Z or an offset such as +01:00")
        return times.resolve_exact(written.wall, cal.tz)
    except times.TimeProblem as problem:
        hint = f" ({problem.hint})" if problem.hint else ""
        raise UsageError(f"{what}: {problem}{hint}") from None
