"""The composition root: the one place that builds ledgers, clients and clocks for commands.

Commands ask for what they need here and never construct a backend themselves, so a new
ledger backend or client option is wired once.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from runner.cli.context import Context, UsageError
from runner.daemon.events import EventLog
from runner.errors import PushcalError
from runner.ledger.contract import Row
from runner.ledger.sqlite import SqliteLedger
from runner.ledger.sqlite_readonly import SqliteReader
from runner.oneall.client import Client
from runner.oneall.credentials import Credentials


def existing_states(path: Path, ctx: Context) -> dict[tuple[str, str], str]:
    """The ledger's state per (key, account), if a ledger exists; never creates one."""
    if not path.exists():
        return {}
    with SqliteReader(path) as ledger:
        return {(r.key, r.account): str(r.state) for r in ledger.rows()}


def existing_rows(path: Path, ctx: Context) -> dict[tuple[str, str], Row]:
    """The ledger's rows by (key, account), read only; the ledger must exist."""
    if not path.exists():
        raise PushcalError(f"no ledger at {path}; give --state FILE, or run something first")
    with SqliteReader(path) as ledger:
        return {(r.key, r.account): r for r in ledger.rows()}


@contextmanager
def client(use_sandbox: bool, ctx: Context, read_timeout: float = 30.0) -> Iterator[Client]:
    """A client for OneAll, or for a sandbox started on a free loopback port."""
    if not use_sandbox:
        yield Client(Credentials.from_env(ctx.env), clock=ctx.clock, read_timeout=read_timeout)
        return
    from runner.sandbox import Sandbox

    with Sandbox() as box:
        print(f"sandbox: listening on {box.url}", file=ctx.err)
        yield Client(Credentials.from_env(box.env()), clock=ctx.clock, read_timeout=read_timeout)


@contextmanager
def ledger(args: argparse.Namespace, clock: Callable[[], datetime],
           log: EventLog | None = None) -> Iterator[SqliteLedger]:
    """The ledger at --state; with --sandbox and no --state, a throwaway one, so trying
    things out never marks a real post as sent."""
    if args.sandbox and not args.state_given:
        with tempfile.TemporaryDirectory(prefix="pushcal-sandbox-") as folder:
            path = Path(folder) / "ledger.sqlite"
            if log is not None:
                log("sandbox-ledger", path=str(path), note="deleted at exit; give --state to keep it")
            with SqliteLedger(path, clock=clock) as opened:
                opened.mark_sandbox()
                yield opened
        return
    keep_history_apart(args)
    with SqliteLedger(args.state, clock=clock) as opened:
        if args.sandbox:
            opened.mark_sandbox()
        yield opened


def keep_history_apart(args: argparse.Namespace) -> None:
    """A sandbox never writes into real history, and a real run never reads a sandbox's.

    Commands call it before any other work too, so the refusal comes first and alone."""
    path, sandbox = args.state, args.sandbox
    if (sandbox and not args.state_given) or not path.is_file() or path.stat().st_size == 0:
        return
    with SqliteReader(path) as existing:
        if sandbox and not existing.sandbox and existing.rows(limit=1):
            raise UsageError(f"--state {path} holds real deliveries: a --sandbox or --rehearse "
                             "run never writes there; leave out --state for a throwaway ledger, "
                             "or give a new file")
        if not sandbox and existing.sandbox:
            raise UsageError(f"--state {path} is a sandbox's ledger (nothing in it was really "
                             "published): give the real ledger, or add --sandbox")


@contextmanager
def existing_ledger(path: Path, ctx: Context, missing: str) -> Iterator[SqliteLedger]:
    """The ledger at `path` to write to, which must exist already (`missing` says what to do)."""
    if not path.exists():
        raise PushcalError(missing)
    with SqliteLedger(path, clock=ctx.clock) as opened:
        yield opened


@contextmanager
def reader(path: Path, missing: str) -> Iterator[SqliteReader]:
    """The ledger at `path`, opened read-only: never created, converted or repaired."""
    if not path.exists():
        raise PushcalError(missing)
    with SqliteReader(path) as opened:
        yield opened


@dataclass
class RealClock:
    """The context's clock as a daemon clock (no scaling)."""

    ctx: Context

    def now(self) -> datetime:
        return self.ctx.clock()

    def real(self, moment: datetime) -> datetime:
        return moment

    def real_seconds(self, seconds: float) -> float:
        return seconds
