"""`pushcal agenda PATH...`: one line per occurrence, grouped by day, in the calendar's zone."""

from __future__ import annotations

import argparse

from runner.calendar import load
from runner.cli import reviewing
from runner.cli.context import Context, UsageError
from runner.review import slots
from runner.review.agenda import agenda

DAYS = 30


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the agenda of the window (default: the next 30 days)."""
    cal = load(args.paths)
    start, end = reviewing.window(args, cal, ctx, DAYS)
    unknown = sorted(set(args.account or ()) - set(cal.accounts))
    if unknown:
        raise UsageError(f"--account: unknown account {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(cal.accounts))}")
    chosen = [s for s in slots(cal, start, end).values() if s.enabled and
              (not args.account or s.occurrence.account in args.account)]
    rows = reviewing.rows(args, ctx)
    ctx.out.write(agenda(chosen, cal.tz, rows, ctx.clock(), reviewing.colour(args, ctx)))
    return 0
