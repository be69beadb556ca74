"""The `pushcal` command: parse arguments, call the rooms, print, map errors to exit codes.

Exit codes: 0 ok, 1 a user-facing failure (bad calendar, refused request, missing keys),
2 a usage error, 3 a bug (with a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from runner import __version__
from runner.cli import commands
from runner.errors import InvalidCalendar, PushcalError

STATE_HELP = ("ledger file (default: $PUSHCAL_STATE, else $XDG_STATE_HOME/pushcal/ledger.sqlite, "
              "else ~/.local/state/pushcal/ledger.sqlite)")


@dataclass
class Context:
    """What a command may touch of the world; tests pass their own."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)


def default_state(env: Mapping[str, str]) -> Path:
    """Where the ledger lives unless `--state` says otherwise."""
    if env.get("PUSHCAL_STATE"):
        return Path(env["PUSHCAL_STATE"])
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() /
                                            ".local" / "state")
    return Path(base) / "pushcal" / "ledger.sqlite"


def _sending(p: argparse.ArgumentParser) -> None:
    """The options of the commands that send: `send` and `run`."""
    p.add_argument("--state", type=Path, help=STATE_HELP)
    p.add_argument("--sandbox", action="store_true",
                   help="send to a sandbox started in this process (and a throwaway ledger "
                        "unless --state is given)")
    p.add_argument("--read-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for OneAll's answer before the outcome is unknown")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pushcal", description=(
        "A content calendar kept as code, published through the OneAll Push API."))
    parser.add_argument("--version", action="version", version=f"pushcal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check calendar files; print every problem")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", choices=("text", "json", "github"), default="text")

    p = sub.add_parser("plan", help="show every request that will be sent, and when")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--from", dest="start", metavar="TIME",
                   help="window start: ISO 8601 with Z or an offset, or a wall time in the "
                        "calendar's zone (default: now)")
    p.add_argument("--to", dest="end", metavar="TIME", help="window end (default: 30 days on)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("send", help="publish one entry now, through the ledger")
    p.add_argument("args", nargs="+", metavar="PATH... ENTRY")
    p.add_argument("--account", metavar="NAME", help="only this account of the entry")
    _sending(p)
    p.add_argument("--force", action="store_true",
                   help="send again an occurrence that failed, was missed or cancelled "
                        "(never one that was sent or may have been)")

    p = sub.add_parser("status", help="counts per state and what needs attention")
    p.add_argument("paths", nargs="*", metavar="PATH", help="calendar, to show the next firings")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when any delivery is unknown, failed or missed (for monitoring)")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("history", help="list recorded outcomes")
    p.add_argument("--entry", metavar="ID")
    p.add_argument("--since", metavar="TIME", help="ISO 8601 with Z or an offset")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("resolve", help="settle an `unknown` delivery by hand")
    p.add_argument("entry", metavar="ENTRY")
    p.add_argument("--account", required=True, metavar="NAME")
    p.add_argument("--key", metavar="KEY", help="one occurrence of a repeating entry")
    outcome = p.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--sent", action="store_true", help="it did go out")
    outcome.add_argument("--not-sent", action="store_true", help="it did not: send it again")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("check", help="look for `unknown` deliveries in OneAll's Pull API")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--entry", metavar="ID", help="only this entry's unknown deliveries")
    p.add_argument("--state", type=Path, help=STATE_HELP)
    p.add_argument("--read-timeout", type=float, default=30.0, metavar="SECONDS")

    p = sub.add_parser("sandbox", help="run a loopback OneAll emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--fail-codes", default="503",
                   help="comma-separated HTTP codes or named faults "
                        "(drop, timeout, reset-after, refuse)")
    p.add_argument("--seed", type=int)

    p = sub.add_parser("run", help="the daemon: publish every entry at its time")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _sending(p)
    p.add_argument("--rehearse", action="store_true",
                   help="play the calendar on virtual time (with --sandbox), from --from to --until")
    p.add_argument("--speed", type=float, default=36000.0,
                   help="virtual seconds per real second when rehearsing (default 36000: a week in 17 s)")
    p.add_argument("--from", dest="start", metavar="TIME", help="rehearsal start (default: now)")
    p.add_argument("--until", dest="end", metavar="TIME",
                   help="stop after this time (rehearsal default: 7 days on)")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--heartbeat", type=Path, metavar="FILE",
                   help="liveness file rewritten every 5 s: pid, alive_at, last_fire, attention")
    p.add_argument("--horizon", type=float, default=48.0, metavar="HOURS",
                   help="how far ahead occurrences are loaded into the scheduler")
    return parser


def main(argv: Sequence[str] | None = None, ctx: Context | None = None) -> int:
    """Run one command; return its exit code."""
    ctx = ctx or Context()
    try:
        # argparse writes usage, --help and errors to the process streams: send them to ours.
        with contextlib.redirect_stdout(ctx.out), contextlib.redirect_stderr(ctx.err):
            args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    args.state_given = getattr(args, "state", None) is not None
    if getattr(args, "state", "unset") is None:
        args.state = default_state(ctx.env)
    try:
        return commands.run(args, ctx)
    except commands.UsageError as error:
        print(f"pushcal: {error}", file=ctx.err)
        return 2
    except InvalidCalendar as error:
        commands.print_problems(error.problems, getattr(args, "format", "text"), ctx)
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
