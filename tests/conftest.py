"""Shared test seam: run `pushcal` in-process with captured streams and an injected clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest

from runner.cli import Context, main

ROOT = Path(__file__).resolve().parent.parent
# A fixed "now" for commands that read the clock; validate never does.
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    """What one `pushcal` invocation did."""

    code: int
    out: str
    err: str

    def __str__(self) -> str:  # shown by pytest when an assertion on a Run fails
        return f"exit {self.code}\n--- stdout ---\n{self.out}--- stderr ---\n{self.err}"


RunPushcal = Callable[..., Run]


def run_pushcal(argv: Sequence[str], *, now: datetime = NOW,
                env: dict[str, str] | None = None) -> Run:
    """`pushcal argv...` in this process, with an empty environment unless one is given."""
    out, err = StringIO(), StringIO()
    code = main(list(argv), Context(env=env or {}, clock=lambda: now, out=out, err=err))
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(name="pushcal")
def pushcal_fixture() -> RunPushcal:
    """The in-process `pushcal` runner, as a fixture."""
    return run_pushcal
