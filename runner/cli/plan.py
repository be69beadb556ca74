"""`pushcal plan PATH...`: every request that will be sent in a window, and when."""

from __future__ import annotations

import argparse
from datetime import timedelta

from runner.calendar import Occurrence, expand, load
from runner.cli import output, steps, wiring
from runner.cli.context import Context, UsageError
from runner.cli.moments import moment
from runner.cli.past import ALREADY_HAPPENED, past_one_offs
from runner.oneall.render import render
from runner.oneall.wire import Request

PLAN_DAYS = 30


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the plan as text or JSON; the ledger's states beside it when one exists."""
    cal = load(args.paths, ctx.records())
    start = moment(args.start, cal, "--from") if args.start else ctx.clock()
    end = moment(args.end, cal, "--to") if args.end else start + timedelta(days=PLAN_DAYS)
    if end <= start:
        raise UsageError("--to must be after --from")
    states = wiring.existing_states(args.state, ctx)
    # Rendered one occurrence at a time: JSON is written as it goes. Each entry is read once
    # (a recorded one is unpacked on each read), and rendered once per account: what it
    # sends does not depend on the occurrence, and a daily entry has seven in a week.
    entries = {e.id: e for e in cal.entries.near(start, end)}
    rendered: dict[tuple[str, str], list[Request]] = {}

    def requests(occ: Occurrence) -> list[Request]:
        found = rendered.get((occ.entry, occ.account))
        if found is None:
            found = rendered[(occ.entry, occ.account)] = render(
                cal, entries[occ.entry], cal.accounts[occ.account])
        return found

    items = (output.PlanItem(occ, cal.accounts[occ.account].provider,
                             entries[occ.entry].kind.value, requests(occ),
                             states.get((occ.key, occ.account)))
             for occ in expand(cal, start, end, entries=iter(entries.values())))
    if args.format == "json":
        for chunk in output.plan_json_chunks(items):
            ctx.out.write(chunk)
    else:
        ctx.out.write(output.plan_text(list(items), start, end))
        recorded = {key for key, _ in states}
        for past in past_one_offs(cal, min(start, ctx.clock()), recorded):
            print(f"not in this plan: {past.entry.id} was due {output.when(past.due, cal.tz)}, "
                  f"before the window, and was never sent: it will not be sent on its own "
                  f"(pushcal send {steps.calendar_words(args.paths)} {past.entry.id}; "
                  f"{ALREADY_HAPPENED})", file=ctx.out)
    return 0
