"""The composition root: the one place that builds ledgers, clients and clocks for commands.

Commands ask for what they need here and never construct a backend themselves, so a new
ledger backend or client option is wired once. `--state` (and $PUSHCAL_STATE) is a file
for SQLite or a postgresql:// URL; `runner.ledger.location` opens either.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.cli.context import Context, UsageError
from runner.errors import PushcalError
from runner.ledger import Ledger
from runner.ledger.contract import Row
from runner.ledger.location import DatabaseUrl, StateLocation, open_ledger
from runner.ledger.sqlite import SqliteLedger
from runner.ledger.sqlite_readonly import SqliteReader
from runner.oneall.credentials import Credentials

if TYPE_CHECKING:  # httpx and the daemon load with the commands that send or run
    from runner.daemon.events import EventLog
    from runner.ledger.postgres import PostgresLedger
    from runner.oneall.client import Client


def existing_states(where: StateLocation, ctx: Context) -> dict[tuple[str, str], str]:
    """The ledger's state per (key, account), if a ledger exists; never creates one."""
    if not exists(where, ctx):
        return {}
    with reader(where, "") as ledger:
        return {(r.key, r.account): str(r.state) for r in ledger.rows()}


def existing_rows(where: StateLocation, ctx: Context) -> dict[tuple[str, str], Row]:
    """The ledger's rows by (key, account), read only; the ledger must exist."""
    with reader(where, f"no ledger at {where}; give --state FILE, or run something first") as ledger:
        return {(r.key, r.account): r for r in ledger.rows()}


def exists(where: StateLocation, ctx: Context) -> bool:
    """Whether there is a ledger at `where` (a file, or a database holding our schema)."""
    if not isinstance(where, DatabaseUrl):
        return where.exists()
    found = open_ledger(where, ctx.clock, create=False)
    if found is not None:
        found.close()
    return found is not None


@contextmanager
def client(use_sandbox: bool, ctx: Context, read_timeout: float = 30.0) -> Iterator[Client]:
    """A client for OneAll, or for a sandbox started on a free loopback port."""
    from runner.oneall.client import Client

    if not use_sandbox:
        yield Client(Credentials.from_env(ctx.env), clock=ctx.clock, read_timeout=read_timeout)
        return
    from runner.sandbox import Sandbox

    with Sandbox() as box:
        print(f"sandbox: listening on {box.url}", file=ctx.err)
        yield Client(Credentials.from_env(box.env()), clock=ctx.clock, read_timeout=read_timeout)


@contextmanager
def ledger(args: argparse.Namespace, clock: Callable[[], datetime],
           log: EventLog | None = None) -> Iterator[Ledger]:
    """The ledger at --state (a file or a postgresql:// URL, created if absent); with
    --sandbox and no --state, a throwaway one, so trying things out never marks a real
    post as sent."""
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
    found = open_ledger(args.state, clock)
    assert found is not None  # created when absent
    try:
        if args.sandbox and isinstance(found, SqliteLedger):
            found.mark_sandbox()
        yield found
    finally:
        found.close()


def writable(path: Path, option: str) -> None:
    """Refuse a file that could never be written, before any work starts."""
    if path.parent.exists() and not path.parent.is_dir():
        raise PushcalError(f"{option} {path}: cannot write there ({path.parent} is not a "
                           "directory); choose a file in a writable directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise PushcalError(f"{option} {path}: cannot write there ({error.strerror}); "
                           "choose a file in a writable directory") from None


def keep_history_apart(args: argparse.Namespace) -> None:
    """A sandbox never writes into real history, and a real run never reads a sandbox's;
    a new ledger file must be writable where it is asked for.

    Commands call it before any other work too, so the refusal comes first and alone."""
    path, sandbox = args.state, args.sandbox
    if not isinstance(path, DatabaseUrl) and not (sandbox and not args.state_given) \
            and not path.exists():
        writable(path, "--state")
    if isinstance(path, DatabaseUrl):
        if sandbox and args.state_given:
            raise UsageError("--sandbox with a database --state would write a sandbox's posts"
                             " into real history: leave out --state for a throwaway ledger")
        return
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
def existing_ledger(where: StateLocation, ctx: Context, missing: str) -> Iterator[Ledger]:
    """The ledger at `where` to write to, which must exist already (`missing` says what to do)."""
    opened = open_ledger(where, ctx.clock, create=False)
    if opened is None:
        raise PushcalError(missing)
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def reader(where: StateLocation, missing: str) -> Iterator[SqliteReader | PostgresLedger]:
    """The ledger at `where`, opened to read: never created, converted or repaired (a
    database is read through the same connection a daemon would use, its schema untouched)."""
    if isinstance(where, DatabaseUrl):
        from runner.ledger.postgres import PostgresLedger

        found = PostgresLedger.open(where, clock=_utc_now, create=False)
        if found is None:
            raise PushcalError(missing)
        with found:
            yield found
        return
    if not where.exists():
        raise PushcalError(missing)
    with SqliteReader(where) as opened:
        yield opened


def _utc_now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


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
