"""`pushcal history`: the recorded outcomes, as text or JSON."""

from __future__ import annotations

import argparse

from runner.cli import output, wiring
from runner.cli.context import Context
from runner.cli.moments import moment


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the rows of an existing ledger, filtered by entry and time."""
    since = moment(args.since, None, "--since") if args.since else None
    missing = f"no ledger at {args.state}; give --state or run something first"
    with wiring.existing_ledger(args.state, ctx, missing) as ledger:
        rows = ledger.rows(entry=args.entry, since=since)
    if args.format == "json":
        ctx.out.write(output.rows_json(rows))
    else:
        for row in rows:
            print(output.row_line(row), file=ctx.out)
    return 0
