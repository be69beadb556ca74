"""The `pushcal` command: parse arguments, run the command's module, map errors to exit codes.

Exit codes: 0 ok, 1 a user-facing failure (bad calendar, refused request, missing keys),
2 a usage error, 3 a bug (with a traceback), 130 interrupted, 141 the reader closed the pipe.
This is the one top-level handler that turns exceptions into exit codes.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from runner.cli import parser as arguments
from runner.cli.context import Context, UsageError, default_state
from runner.errors import InvalidCalendar, PushcalError
from runner.ledger.location import parse as parse_state

# Commands that load a calendar, show a window of it and end: the cyclic collector would only
# scan, again and again, the hundreds of thousands of objects a large calendar is, and find
# nothing to free (a third of `plan` on a week of a million occurrences, BENCHMARKS.md 9.4).
VIEWS = frozenset({"plan", "agenda", "calendar", "diff"})


def _collector(command: str) -> contextlib.AbstractContextManager[None]:
    """The cyclic collector paused for a view, as the calendar loader pauses it."""
    if command not in VIEWS:
        return contextlib.nullcontext()
    from runner.calendar.loader import collector_paused  # a view loads the calendar anyway

    return collector_paused()


def main(argv: Sequence[str] | None = None, ctx: Context | None = None) -> int:
    """Run one command; return its exit code."""
    ctx = ctx or Context()
    try:
        # argparse writes usage, --help and errors to the process streams: send them to ours.
        with contextlib.redirect_stdout(ctx.out), contextlib.redirect_stderr(ctx.err):
            parser = arguments.build()
            args, extra = parser.parse_known_args(argv)
            if extra:  # a wrong option of a command: that command's usage, not pushcal's
                arguments.subcommand(parser, args.command).error(
                    f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    args.state_given = getattr(args, "state", None) is not None
    if getattr(args, "state", "unset") is None:
        args.state = default_state(ctx.env)
    elif getattr(args, "state", None):  # a bare --state (review commands) stays "" for the default ledger
        args.state = parse_state(args.state)
    try:
        command = importlib.import_module(arguments.MODULES[args.command])
        with _collector(args.command):
            return int(command.run(args, ctx))
    except UsageError as error:
        print(f"pushcal: {error}", file=ctx.err)
        return 2
    except InvalidCalendar as error:
        from runner.cli.problems import print_problems

        print_problems(error.problems, getattr(args, "format", "text"), ctx)
        return 1
    except PushcalError as error:
        print(f"pushcal: {error}", file=ctx.err)
        return 1
    except KeyboardInterrupt:
        print("pushcal: interrupted", file=ctx.err)
        return 130
    except BrokenPipeError:
        # `pushcal history | head`: the reader left; say nothing more, as other tools do.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception:
        print("pushcal: unexpected error (a bug; please report it with this output):",
              file=ctx.err)
        traceback.print_exc(file=ctx.err)
        return 3
