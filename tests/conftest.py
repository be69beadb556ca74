"""Shared test seam: run `pushcal` in-process with captured streams and an injected clock."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pg_server as pg
import pytest

from runner.cli import Context, main

ROOT = Path(__file__).resolve().parent.parent

# Daemons and commands the tests start as processes inherit this: their records of checked
# files go to a directory of this run's, never to the user's ~/.cache.
os.environ["PUSHCAL_CACHE"] = tempfile.mkdtemp(prefix="pushcal-test-records-")
atexit.register(shutil.rmtree, os.environ["PUSHCAL_CACHE"], ignore_errors=True)
# A fixed "now" for commands that read the clock; validate never does.
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# The two accounts (a Facebook page and a Twitter identity) and the one photo that the
# command tests' calendars share; each test file adds its own entries.
FB = "923843ec-1749-4cc1-988f-d6963f3b1baa"
X = "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11"
TWO_ACCOUNTS = f"""\
version: 1
timezone: Europe/Berlin
accounts:
  page: {{provider: facebook, identity: {FB}, page: "4563453"}}
  x: {{provider: twitter, identity: {X}}}
"""
PHOTO = """\
media:
  photo: {url: "https://cdn.example.com/photo.jpg", type: picture, description: "A photo"}
"""


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.Server]:
    """A PostgreSQL server for the whole run, started here; a skip with the reason when this
    machine has none, and a failure instead where CI says one is required."""
    try:
        server = pg.launch()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as why:
        detail = getattr(why, "stderr", None) or why
        if os.environ.get("PUSHCAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PUSHCAL_REQUIRE_POSTGRES=1 but no PostgreSQL server could start: {detail}")
        pytest.skip(f"PostgreSQL tests need a server: {detail}")
    yield server
    server.cleanup()


@pytest.fixture
def pg_url(pg_server: pg.Server) -> str:
    """The URL (password included) of a fresh, empty database on the test server."""
    return pg_server.new_database()
