"""`pushcal status [PATH...]`: counts per state, what needs attention, and the next firings."""

from __future__ import annotations

import argparse
from datetime import timedelta

from runner.calendar import expand, load
from runner.cli import output
from runner.cli.context import Context
from runner.clock import utc_text
from runner.ledger import NEEDS_A_HUMAN, State
from runner.ledger.sqlite import SqliteLedger

NEXT_DAYS = 30


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the ledger's summary; with --check, exit 1 when a delivery needs a person."""
    cal = load(args.paths) if args.paths else None
    done: set[tuple[str, str]] = set()
    urgent = 0
    if args.state.exists():
        with SqliteLedger(args.state, clock=ctx.clock) as ledger:
            print(f"ledger {args.state}: {output.counts_line(ledger.counts())}", file=ctx.out)
            attention = ledger.rows(states=(*NEEDS_A_HUMAN, State.RETRY_WAIT))
            if attention:
                print("needs attention:", file=ctx.out)
            for row in attention:
                print("  " + output.row_line(row), file=ctx.out)
            urgent = sum(row.state in NEEDS_A_HUMAN for row in attention)
            done = ledger.keys_in(set(State))
    else:
        print(f"no ledger at {args.state} yet: nothing has been sent", file=ctx.out)
    if cal is not None:
        now = ctx.clock()
        upcoming = [o for o in expand(cal, now, now + timedelta(days=NEXT_DAYS))
                    if (o.key, o.account) not in done][:10]
        print("next:" if upcoming else f"next: nothing in the next {NEXT_DAYS} days", file=ctx.out)
        for occ in upcoming:
            print(f"  {utc_text(occ.due)}  {occ.key} -> {occ.account}", file=ctx.out)
    return 1 if args.check and urgent else 0
