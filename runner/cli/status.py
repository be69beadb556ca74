"""`pushcal status [PATH...]`: counts per state, what needs attention, and the next firings.

Read-only: the ledger is opened through `SqliteReader`, never created or converted. With
`--check`, a missing ledger fails too, so a typo in a monitoring command cannot stay green.
On a shared PostgreSQL ledger it also lists the live daemons, and `--check` fails when none
is alive or when they run different calendars.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

from runner.calendar import expand, load
from runner.cli import colour, output, steps, wiring
from runner.cli.context import Context
from runner.clock import utc_text
from runner.errors import PushcalError
from runner.ledger import NEEDS_A_HUMAN, Ledger, State
from runner.ledger.location import DatabaseUrl

NEXT_DAYS = 30


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the ledger's summary; with --check, exit 1 when a delivery needs a person."""
    cal = load(args.paths, ctx.records()) if args.paths else None
    tint = colour.state_tint(ctx)
    tz = cal.tz if cal is not None else None
    done: set[tuple[str, str]] = set()
    urgent = 0
    now = ctx.clock()
    if wiring.exists(args.state, ctx):
        with wiring.reader(args.state, "") as ledger:
            kind = "sandbox ledger" if ledger.sandbox else "ledger"
            print(f"{kind} {args.state}: {output.counts_line(ledger.counts())}", file=ctx.out)
            orphans = ledger.orphans()
            attention = ledger.rows(states=(*NEEDS_A_HUMAN, State.RETRY_WAIT))
            if attention or orphans:
                print("needs attention:", file=ctx.out)
            for row in attention:
                print("  " + output.row_line(row, tz, tint), file=ctx.out)
                step = steps.next_step(row, args.paths, now)
                if step:
                    print("    " + step, file=ctx.out)
            for row in orphans:
                print("  " + output.row_line(row, tz, tint) + "  (no process is sending it: its sender"
                      " was killed; the next daemon start makes it unknown)", file=ctx.out)
            urgent = sum(row.state in NEEDS_A_HUMAN for row in attention) + len(orphans)
            # Accepted uploads need nobody yet: listed, never failing --check. One whose
            # result never comes becomes `unknown` after --callback-timeout, and fails it then.
            waiting = ledger.rows(states=[State.ACCEPTED])
            if waiting:
                print("waiting for OneAll's result:", file=ctx.out)
            for row in waiting:
                print("  " + output.row_line(row, tz, tint), file=ctx.out)
            if cal is not None:  # only the keys of the next firings, not the whole history
                soon = {o.key for o in expand(cal, now, now + timedelta(days=NEXT_DAYS))}
                done = ledger.keys_in(set(State), keys=soon)
            running = ledger.daemon_running()
        if isinstance(args.state, DatabaseUrl):
            with wiring.existing_ledger(args.state, ctx, "") as shared:
                urgent += _daemons(shared, ctx)
        else:
            urgent += _daemon_health(args.state, running, ctx)
    elif args.check:
        raise PushcalError(f"no ledger at {args.state}: give the daemon's --state (status "
                           "--check fails on a missing ledger, so a typo cannot pass as healthy)")
    else:
        print(f"no ledger at {args.state} yet: nothing has been sent", file=ctx.out)
    if cal is not None:
        upcoming = [o for o in expand(cal, now, now + timedelta(days=NEXT_DAYS))
                    if (o.key, o.account) not in done][:10]
        print("next:" if upcoming else f"next: nothing in the next {NEXT_DAYS} days", file=ctx.out)
        for occ in upcoming:
            print(f"  {output.when(occ.due, tz)}  {occ.key} -> {occ.account}", file=ctx.out)
    return 1 if args.check and urgent else 0


def _daemon_health(state: Path, running: bool, ctx: Context) -> int:
    """Print what the running daemon's health file says is wrong; 1 if anything is."""
    path = state.with_name(state.name + ".health")
    if not running or not path.exists():
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


def _daemons(ledger: Ledger, ctx: Context) -> int:
    """List the live daemons of a shared ledger; 1 if none lives or their calendars differ."""
    live = ledger.daemons()
    if not live:
        print("daemons: none alive: nothing will be sent on time", file=ctx.out)
        return 1
    print(f"daemons: {len(live)} alive", file=ctx.out)
    for peer in live:
        commit = f" commit {peer.commit[:12]}" if peer.commit else ""
        print(f"  {peer.host} pid {peer.pid}  since {utc_text(peer.since)}"
              f"  last beat {utc_text(peer.beat)}  calendar {peer.calendar_hash[:12]}{commit}",
              file=ctx.out)
    if len({(peer.calendar_hash, peer.commit) for peer in live}) > 1:
        print("warning: the daemons run different calendars: a reload or a pull is under way,"
              " or a machine is stuck on an old one (only the newest calendar sends)",
              file=ctx.out)
        return 1
    return 0
