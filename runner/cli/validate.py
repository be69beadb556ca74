"""`pushcal validate PATH...`: check calendar files and print every problem."""

from __future__ import annotations

import argparse

from runner.calendar import load
from runner.cli import output
from runner.cli.context import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 with a one-line summary, or raise InvalidCalendar with every problem."""
    if args.hook:
        from runner.cli import hook

        return hook.run(args, ctx)
    cal = load(args.paths)
    if args.format == "json":
        ctx.out.write("[]\n")
    elif args.format == "text":
        kinds = len({e.kind for e in cal.entries.values()})
        print(f"ok: {output.count(len(cal.files), 'file')}, "
              f"{output.count(len(cal.entries), 'entry', 'entries')} of "
              f"{output.count(kinds, 'kind')}, {output.count(len(cal.accounts), 'account')}, "
              f"{output.count(len(cal.media), 'medium', 'media')}", file=ctx.out)
    return 0
