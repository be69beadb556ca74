"""What the review commands (diff, agenda, calendar) share: the window, the ledger's rows
when --state is given, and whether to colour."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from runner.calendar import Calendar
from runner.cli import wiring
from runner.cli.context import Context, UsageError, default_state
from runner.cli.moments import moment
from runner.ledger import Row


def window(args: argparse.Namespace, cal: Calendar | None, ctx: Context,
           days: int) -> tuple[datetime, datetime]:
    """--from (default now) and --to (default `days` on)."""
    start = moment(args.start, cal, "--from") if args.start else ctx.clock()
    end = moment(args.end, cal, "--to") if args.end else start + timedelta(days=days)
    if end <= start:
        raise UsageError("--to must be after --from")
    return start, end


def rows(args: argparse.Namespace, ctx: Context) -> dict[tuple[str, str], Row] | None:
    """The ledger's rows when --state was given (bare: the default ledger), else None."""
    if not args.state_given:
        return None
    return wiring.existing_rows(args.state or default_state(ctx.env), ctx)


def colour(args: argparse.Namespace, ctx: Context) -> bool:
    """--color: auto means on a terminal, and not when NO_COLOR is set (https://no-color.org)."""
    if args.color != "auto":
        return bool(args.color == "always")
    return not ctx.env.get("NO_COLOR") and ctx.out.isatty()
