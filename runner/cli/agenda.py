"""`pushcal agenda PATH...`: one line per occurrence, grouped by day, in the calendar's zone."""

from __future__ import annotations

import argparse

from runner.calendar import load
from runner.cli import output, reviewing
from runner.cli.context import Context, UsageError
from runner.cli.past import ALREADY_HAPPENED, past_one_offs
from runner.review import slots
from runner.review.agenda import agenda

DAYS = 30


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the agenda of the window (default: the next 30 days)."""
    cal = load(args.paths, ctx.records())
    start, end = reviewing.window(args, cal, ctx, DAYS)
    unknown = sorted(set(args.account or ()) - set(cal.accounts))
    if unknown:
        raise UsageError(f"--account: unknown account {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(cal.accounts))}")
    chosen = [s for s in slots(cal, start, end).values() if s.enabled and
              (not args.account or s.occurrence.account in args.account)]
    rows = reviewing.rows(args, ctx)
    ctx.out.write(agenda(chosen, cal.tz, rows, ctx.clock(), reviewing.colour(args, ctx)))
    recorded = {key for key, _ in rows} if rows is not None else set()
    for past in past_one_offs(cal, min(start, ctx.clock()), recorded):
        print(f"not in this agenda: {past.entry.id} was due {output.when(past.due, cal.tz)}, "
              f"in the past, and is not recorded as sent: it will not be sent on its own "
              f"({ALREADY_HAPPENED})", file=ctx.out)
    return 0
