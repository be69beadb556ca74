"""`pushcal plan PATH...`: every request that will be sent in a window, and when."""

from __future__ import annotations

import argparse
from datetime import timedelta

from runner.calendar import expand, load
from runner.cli import output, wiring
from runner.cli.context import Context, UsageError
from runner.cli.moments import moment
from runner.oneall.render import render

PLAN_DAYS = 30


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the plan as text or JSON; the ledger's states beside it when one exists."""
    cal = load(args.paths)
    start = moment(args.start, cal, "--from") if args.start else ctx.clock()
    end = moment(args.end, cal, "--to") if args.end else start + timedelta(days=PLAN_DAYS)
    if end <= start:
        raise UsageError("--to must be after --from")
    states = wiring.existing_states(args.state, ctx)
    items = [output.PlanItem(occ, cal.accounts[occ.account].provider,
                             cal.entries[occ.entry].kind.value,
                             render(cal, cal.entries[occ.entry], cal.accounts[occ.account]),
                             states.get((occ.key, occ.account)))
             for occ in expand(cal, start, end)]
    if args.format == "json":
        ctx.out.write(output.plan_json(items))
    else:
        ctx.out.write(output.plan_text(items, start, end))
    return 0
