"""Colour on a terminal: never when piped, redirected, on a dumb terminal, or with NO_COLOR.

https://no-color.org: any non-empty NO_COLOR turns colour off. Formatting stays plain text
in `output`; colour is painted over it here, so machines never see an escape code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from runner.cli.context import Context

_OFF = "\x1b[0m"
BOLD, RED, GREEN, YELLOW, DIM = "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[2m"
STATES = {"sent": GREEN, "failed": RED, "unknown": RED, "missed": YELLOW, "retry_wait": YELLOW,
          "cancelled": DIM, "sending": BOLD, "planned": DIM}

Paint = Callable[[str, str], str]


def wanted(ctx: Context, stream: TextIO) -> bool:
    """Whether to colour what goes to `stream`."""
    if ctx.env.get("NO_COLOR") or ctx.env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def painter(on: bool) -> Paint:
    """`paint(code, text)`: the text in that colour, or as it is when colour is off."""
    if not on:
        return lambda code, text: text
    return lambda code, text: f"{code}{text}{_OFF}" if text and code else text


def problem_line(line: str, paint: Paint) -> str:
    """`file:line:col: $.path: message (hint)` with the place bold, a warning yellow."""
    place, sep, rest = line.partition(": ")
    if not sep:
        return line
    tint = YELLOW if rest.startswith("warning:") or "warning:" in rest.split(" (")[0] else RED
    message, hint_sep, hint = rest.rpartition(" (") if rest.endswith(")") else (rest, "", "")
    return f"{paint(BOLD, place)}{sep}{paint(tint, message)}{hint_sep}{hint}"


def state_tint(ctx: Context) -> Callable[[str], str]:
    """A ledger state word in its colour, for rows printed to `ctx.out`."""
    paint = painter(wanted(ctx, ctx.out))
    return lambda state: paint(STATES.get(state, ""), state)
