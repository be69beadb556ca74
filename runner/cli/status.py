"""`pushcal status [PATH...]`: counts per state, what needs attention, and the next firings."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

from runner.calendar import expand, load
from runner.cli import output
from runner.cli.context import Context
from runner.clock import utc_text
from runner.ledger import NEEDS_A_HUMAN, State
from runner.ledger.locks import daemon_running
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
            orphans = ledger.orphans()
            attention = ledger.rows(states=(*NEEDS_A_HUMAN, State.RETRY_WAIT))
            if attention or orphans:
                print("needs attention:", file=ctx.out)
            for row in attention:
                print("  " + output.row_line(row), file=ctx.out)
            for row in orphans:
                print("  " + output.row_line(row) + "  (no process is sending it: its sender"
                      " was killed; the next daemon start makes it unknown)", file=ctx.out)
            urgent = sum(row.state in NEEDS_A_HUMAN for row in attention) + len(orphans)
            done = ledger.keys_in(set(State))
        urgent += _daemon_health(args.state, ctx)
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


def _daemon_health(state: Path, ctx: Context) -> int:
    """Print what the running daemon's health file says is wrong; 1 if anything is."""
    path = state.with_name(state.name + ".health")
    if not daemon_running(state) or not path.exists():
        return 0
    try:
        health = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"daemon: its health file {path} cannot be read: {error}", file=ctx.out)
        return 1
    failing, unrecorded = health.get("failing") or {}, health.get("unrecorded") or 0
    for task, why in sorted(failing.items()):
        print(f"daemon: task {task} is failing: {why}", file=ctx.out)
    if unrecorded:
        print(f"daemon: {unrecorded} missed occurrence(s) could not be recorded in the"
              " ledger yet", file=ctx.out)
    return 1 if failing or unrecorded else 0
