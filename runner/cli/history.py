"""`pushcal history [PATH...]`: the recorded outcomes, as text or JSON.

Read-only. `--entry` takes an entry id or one occurrence's key (`id@YYYY-MM-DD`); with the
calendar's paths, times are also shown in its zone and `--since` may be a wall time there.
"""

from __future__ import annotations

import argparse

from runner.calendar import load
from runner.cli import colour, output, wiring
from runner.cli.context import Context
from runner.cli.moments import moment


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the rows of an existing ledger, filtered by entry (or key) and time."""
    cal = load(args.paths, ctx.records()) if args.paths else None
    tint = colour.state_tint(ctx)
    since = moment(args.since, cal, "--since") if args.since else None
    entry, key = split_key(args.entry)
    missing = f"no ledger at {args.state}; give --state or run something first"
    with wiring.reader(args.state, missing) as ledger:
        rows = [row for row in ledger.rows(entry=entry, since=since)
                if key is None or row.key == key]
        sandbox = ledger.sandbox
    if args.format == "json":
        ctx.out.write(output.rows_json(rows, sandbox=sandbox))
        return 0
    if sandbox:
        print(f"sandbox ledger {args.state}: nothing in it was really published", file=ctx.out)
    for row in rows:
        print(output.row_line(row, cal.tz if cal else None, tint), file=ctx.out)
    if not rows:
        print(f"nothing recorded{_filters(args)} in {args.state}", file=ctx.out)
    return 0


def split_key(text: str | None) -> tuple[str | None, str | None]:
    """`brew-tip@2026-12-08` -> (`brew-tip`, the key); `brew-tip` -> (`brew-tip`, None)."""
    if text is None or "@" not in text:
        return text, None
    return text.split("@", 1)[0], text


def _filters(args: argparse.Namespace) -> str:
    parts = []
    if args.entry:
        parts.append(f"for {args.entry}")
    if args.since:
        parts.append(f"since {args.since}")
    return "".join(f" {p}" for p in parts)
