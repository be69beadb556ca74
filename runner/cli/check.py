"""`pushcal check PATH...`: look for each `unknown` delivery in OneAll's Pull API listings."""

from __future__ import annotations

import argparse
import asyncio

from runner.calendar import load
from runner.cli import wiring
from runner.cli.context import Context
from runner.delivery import Finding, pull_check
from runner.ledger import State
from runner.oneall.client import Client


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print, per unknown row, what the listings show and which `resolve` fits; change nothing."""
    cal = load(args.paths, ctx.records())
    with wiring.reader(args.state, f"no ledger at {args.state}: give the daemon's --state") as ledger:
        rows = ledger.rows(states=[State.UNKNOWN], entry=args.entry)
    if not rows:
        print("nothing is unknown", file=ctx.out)
        return 0

    async def ask(client: Client) -> list[Finding]:
        async with client:
            return await pull_check(cal, rows, client)

    with wiring.client(False, ctx, args.read_timeout) as client:
        findings = asyncio.run(ask(client))
    for finding in findings:
        print(f"{finding.row.key} -> {finding.row.account}: {finding.note}", file=ctx.out)
    return 0
