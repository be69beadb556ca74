"""Checked option values: argparse `type=` functions that refuse what a command cannot use.

Each returns the value or raises `argparse.ArgumentTypeError` with the reason and the
range, so a bad value is one line and exit 2 before any work starts (never `nan` speeds,
negative horizons or ports past 65535 reaching the code that would crash on them). Light:
imports no room, like the parser that uses it.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
from collections.abc import Callable


def number(low: float, high: float, *, low_open: bool = False,
           unit: str = "") -> Callable[[str], float]:
    """A finite float within [low, high] (or (low, high] when `low_open`)."""
    bounds = (f"a number above {_g(low)} and at most {_g(high)}{unit}" if low_open
              else f"a number from {_g(low)} to {_g(high)}{unit}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number (give {bounds})") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"'{text}' is not a finite number (give {bounds})")
        if value < low or value > high or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"'{text}' is out of range (give {bounds})")
        return value

    parse.__name__ = "number"  # argparse names the type in some messages
    return parse


def integer(low: int, high: int) -> Callable[[str], int]:
    """A whole number within [low, high]."""
    bounds = f"a whole number from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {bounds}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"'{text}' is out of range (give {bounds})")
        return value

    parse.__name__ = "integer"
    return parse


def loopback(text: str) -> str:
    """A loopback host: 127.0.0.0/8, ::1 or localhost (the sandbox never listens elsewhere)."""
    try:
        address = ipaddress.ip_address("127.0.0.1" if text == "localhost" else text)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a loopback address (the sandbox listens on 127.0.0.1, ::1 or "
            "localhost only)")
    return text


def _g(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value:,.0f}"


SPEED = number(0, 10_000_000, low_open=True)
HOURS = number(0, 8760, low_open=True, unit=" hours")
SECONDS = number(0, 3600, low_open=True, unit=" seconds")
MILLISECONDS = number(0, 600_000, unit=" ms")
RATE = number(0, 1)
PORT = integer(0, 65535)
SEED = integer(0, 2**63 - 1)
