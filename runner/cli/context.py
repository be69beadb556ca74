"""What a command may touch of the world (`Context`), and the usage error that exits 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from runner.errors import PushcalError
from runner.ledger.location import StateLocation, parse

if TYPE_CHECKING:
    from runner.calendar import Store


class UsageError(PushcalError):
    """The command line asks for something that cannot be: exit code 2."""


@dataclass
class Context:
    """What a command may touch of the world; tests pass their own."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def records(self) -> Store | None:
        """Where checked files are recorded between commands (docs/design.md, "Records"):
        `PUSHCAL_CACHE` (a directory, or `off`), else `$XDG_CACHE_HOME/pushcal`, else
        `~/.cache/pushcal`; none for a process without a home."""
        from runner.calendar import Store  # here: `pushcal --help` reads no calendar

        chosen = self.env.get("PUSHCAL_CACHE")
        if chosen == "off":
            return None
        if chosen:
            return Store(Path(chosen))
        if self.env.get("XDG_CACHE_HOME"):
            return Store(Path(self.env["XDG_CACHE_HOME"]) / "pushcal")
        if self.env.get("HOME"):
            return Store(Path(self.env["HOME"]) / ".cache" / "pushcal")
        return None


def default_state(env: Mapping[str, str]) -> StateLocation:
    """Where the ledger lives unless `--state` says otherwise: a file or a database URL."""
    if env.get("PUSHCAL_STATE"):
        return parse(env["PUSHCAL_STATE"])
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() /
                                            ".local" / "state")
    return Path(base) / "pushcal" / "ledger.sqlite"
