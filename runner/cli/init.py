"""`pushcal init [DIR]`: write a starter calendar repository; never overwrite a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from runner.cli import starter
from runner.cli.context import Context
from runner.errors import PushcalError


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Write every starter file, or none of them when any already exists."""
    root = Path(args.directory)
    planned = starter.files(ctx.clock())
    taken = [name for name in planned if (root / name).exists()]
    if taken:
        raise PushcalError(f"{root}: {', '.join(taken)} already exist{'s' if len(taken) == 1 else ''}; "
                           "pushcal init never overwrites a file (move them away, or init elsewhere)")
    try:
        for name, text in planned.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as stream:  # "x": fail rather than overwrite
                stream.write(text)
            print(f"wrote {path}", file=ctx.out)
    except OSError as error:
        raise PushcalError(f"cannot write in {root}: {error.strerror}") from None
    print(f"next: set the account's identity in {root / 'calendar/main.yaml'}, then "
          f"`pushcal validate {root / 'calendar'}` and `pushcal plan {root / 'calendar'}`",
          file=ctx.out)
    return 0
