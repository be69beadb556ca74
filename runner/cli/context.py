"""What a command may touch of the world (`Context`), and the usage error that exits 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from runner.errors import PushcalError
from runner.ledger.location import StateLocation, parse


class UsageError(PushcalError):
    """The command line asks for something that cannot be: exit code 2."""


@dataclass
class Context:
    """What a command may touch of the world; tests pass their own."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)


def default_state(env: Mapping[str, str]) -> StateLocation:
    """Where the ledger lives unless `--state` says otherwise: a file or a database URL."""
    if env.get("PUSHCAL_STATE"):
        return parse(env["PUSHCAL_STATE"])
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() /
                                            ".local" / "state")
    return Path(base) / "pushcal" / "ledger.sqlite"
