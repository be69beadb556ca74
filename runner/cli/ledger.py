"""`pushcal ledger copy SRC DST`: move a ledger (rows and their whole history) to another
place, typically an SQLite file into the PostgreSQL database several daemons will share.

Each side is a file or a postgresql:// URL. The target must hold no delivery yet: copying
never merges or overwrites. Stop the daemon first, so nothing changes the source meanwhile.
"""

from __future__ import annotations

import argparse

from runner.cli import wiring
from runner.cli.context import Context, UsageError
from runner.ledger.location import open_ledger, parse


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Copy every row and event of SRC into the empty ledger DST."""
    source, target = parse(args.source), parse(args.target)
    if source == target:
        raise UsageError("ledger copy: SRC and DST are the same ledger")
    with wiring.existing_ledger(source, ctx, f"no ledger at {source}") as src:
        rows, events = src.rows(), src.history()
    opened = open_ledger(target, ctx.clock)
    assert opened is not None  # created when absent
    try:
        opened.load(rows, events)
    finally:
        opened.close()
    print(f"copied {len(rows)} deliveries and {len(events)} events from {source} to {target}",
          file=ctx.out)
    return 0
