"""`pushcal calendar PATH... --html FILE | --ics FILE`: the schedule as a page or a feed."""

from __future__ import annotations

import argparse
from pathlib import Path

from runner.calendar import load
from runner.cli import reviewing
from runner.cli.context import Context, UsageError
from runner.errors import PushcalError
from runner.review import slots

DAYS = 90


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Write each file asked for; say what was written on stderr."""
    if not args.html and not args.ics:
        raise UsageError("say what to write: --html FILE, --ics FILE, or both")
    cal = load(args.paths, ctx.records())
    start, end = reviewing.window(args, cal, ctx, DAYS)
    chosen = [s for s in slots(cal, start, end).values() if s.enabled]
    rows = reviewing.rows(args, ctx)
    if args.html:
        from runner.review.page import page

        _write(args.html, page(chosen, cal.tz, rows, args.title, start, end, ctx.clock()).encode())
        print(f"wrote {args.html}: {len(chosen)} cards", file=ctx.err)
    if args.ics:
        from runner.review.ics import feed

        _write(args.ics, feed(chosen, cal.tz, rows, args.title, ctx.clock()))
        print(f"wrote {args.ics}: {len(chosen)} events", file=ctx.err)
    return 0


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise PushcalError(f"cannot write {path}: {error.strerror}") from None
