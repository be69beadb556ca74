"""`pushcal resolve ENTRY --account NAME --sent|--not-sent`: settle an `unknown` delivery."""

from __future__ import annotations

import argparse

from runner.cli import wiring
from runner.cli.context import Context
from runner.cli.history import split_key


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Record a person's verdict on the entry's unknown rows for that account."""
    entry, key = split_key(args.entry)
    with wiring.existing_ledger(args.state, ctx, f"no ledger at {args.state}") as ledger:
        rows = ledger.resolve(entry or args.entry, args.account, sent=args.sent,
                              key=key or args.key, location=args.location)
    for row in rows:
        where = f" at {row.location}" if row.location else ""
        print(f"{row.key} -> {row.account}: now {row.state}{where}", file=ctx.out)
    return 0
