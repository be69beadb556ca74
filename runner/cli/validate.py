"""`pushcal validate PATH...`: check calendar files and print every problem."""

from __future__ import annotations

import argparse
import json

from runner.calendar import check
from runner.cli import colour, output
from runner.cli.context import Context
from runner.cli.past import past_one_offs


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 with a one-line summary, or raise InvalidCalendar with every problem."""
    if args.hook:
        from runner.cli import hook

        return hook.run(args, ctx)
    cal = check(args.paths)
    warnings = [p.problem() for p in past_one_offs(cal, ctx.clock())]
    if args.format == "json":
        items = json.loads(output.problems_json(warnings))
        ctx.out.write(json.dumps([{**item, "severity": "warning"} for item in items], indent=2,
                                 ensure_ascii=False) + "\n")
    elif args.format == "github":
        ctx.out.write(output.problems_github(warnings).replace("::error ", "::warning "))
    elif args.format == "text":
        paint = colour.painter(colour.wanted(ctx, ctx.out))
        ctx.out.write("".join(colour.problem_line(w.render(), paint) + "\n" for w in warnings))
        kinds = len({e.kind for e in cal.entries.values()})
        print(f"ok: {output.count(len(cal.files), 'file')}, "
              f"{output.count(len(cal.entries), 'entry', 'entries')} of "
              f"{output.count(kinds, 'kind')}, {output.count(len(cal.accounts), 'account')}, "
              f"{output.count(len(cal.media), 'medium', 'media')}", file=ctx.out)
    return 0
