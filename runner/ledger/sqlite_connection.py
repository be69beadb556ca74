"""One SQLite ledger file, opened and trusted: the connection, its transactions, its checks.

`SqliteConnection` opens (or creates) the file, runs every write as one BEGIN IMMEDIATE
transaction under a mutex shared by the daemon's threads, and before every query checks
that the files are still the ones it opened (`runner.ledger.identity`): a ledger deleted,
truncated or replaced under a running pushcal is refused, never written into.
`runner.ledger.sqlite.SqliteLedger` builds the state changes on top of it.
"""

from __future__ import annotations

import os
import pathlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Self

from runner.ledger import sqlite_rows as tables
from runner.ledger.contract import LedgerError, LedgerUntrusted
from runner.ledger.identity import FileGuard, untrusted_message
from runner.ledger.locks import daemon_running
from runner.ledger.sqlite_files import (
    build_schema,
    check_version,
    create_beside,
    inspect_file,
    is_ledger,
    refuse_unsafe_open,
)
from runner.ledger.sqlite_readonly import SANDBOX_MARK
from runner.ledger.sqlite_rows import SqliteReads

_BUSY_TIMEOUT = 30.0  # seconds a writer waits for another writer's transaction to end


class SqliteConnection(SqliteReads):
    """An open, trusted ledger file; the queries are inherited from `SqliteReads`."""

    def __init__(self, path: pathlib.Path, *, clock: Callable[[], datetime],
                 busy_timeout: float = _BUSY_TIMEOUT) -> None:
        """Open the ledger at `path`, creating it (and its directory) if it does not exist.
        `busy_timeout`: seconds a write waits for another writer before it fails."""
        self._path = path
        self._clock = clock
        self._mutex = threading.Lock()  # one connection, shared by the daemon's threads
        self._lock_fds: list[int] = []
        self._guard = FileGuard(path)
        self._untrusted: str | None = None  # once the files changed under us, for good
        with _translated(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            refuse_unsafe_open(path, daemon_running(path), self._guard.sidecars_missing())
            fresh = inspect_file(path)
            if fresh and not path.exists():
                fresh = not create_beside(path, self._now())
            self._conn = sqlite3.connect(
                path, isolation_level=None, timeout=busy_timeout, check_same_thread=False
            )
            try:
                self._prepare(fresh)
            except BaseException:
                self._conn.close()
                raise

    def _prepare(self, fresh: bool) -> None:
        """Set up the connection; `fresh` means build the schema in place (an empty file)."""
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if fresh:
            with self._write() as conn:
                if not is_ledger(conn):  # another process may have built it meanwhile
                    build_schema(conn, self._now())
        (mode,) = self._conn.execute("PRAGMA journal_mode").fetchone()
        if mode != "wal":  # ledgers made by `create_beside` are WAL from birth
            self._conn.execute("PRAGMA journal_mode = WAL")
        check_version(self._conn, self._path, self._now())
        self._guard.pin()

    def close(self) -> None:
        """Release the database and the daemon lock (idempotent)."""
        with self._mutex:
            self._conn.close()
            for fd in self._lock_fds:  # after the connection: closing them drops the flocks
                os.close(fd)
            self._lock_fds = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def mark_sandbox(self) -> None:
        """Stamp the file as a sandbox's: real runs refuse it and history says so."""
        with self._mutex, _translated(self._path):
            self._conn.execute(f"PRAGMA user_version = {SANDBOX_MARK}")

    def _now(self) -> str:
        return tables.stamp(self._clock())

    def verify(self) -> None:
        """LedgerUntrusted if the ledger's files are no longer the ones this process opened."""
        with self._mutex, _translated(self._path):
            self._trust()

    def _trust(self) -> None:
        """Called under the mutex before every query: the files must be the ones we opened.
        When only the write-ahead files were deleted, what this process wrote is still in
        its open (deleted) log: checkpoint it into the database before refusing, so a
        restart does not see those posts as never sent."""
        if self._untrusted is None:
            what = self._guard.problem()
            if what is None:
                return
            self._untrusted = untrusted_message(self._path, what) + self._rescue()
        raise LedgerUntrusted(self._untrusted)

    def _rescue(self) -> str:
        if self._guard.problem_with_database() or len(self._guard.sidecars_missing()) < 2:
            return ""  # another file took its place: writing into it could only do harm
        try:
            self._conn.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
        except sqlite3.DatabaseError:
            return ""
        return " (what this process had written was saved into the ledger file first)"

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The connection for one query, under the mutex (for `SqliteReads`)."""
        with self._mutex, _translated(self._path):
            self._trust()
            yield self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken at BEGIN, released at COMMIT."""
        with self._mutex, _translated(self._path):
            self._trust()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back already
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")


@contextmanager
def _translated(path: pathlib.Path) -> Iterator[None]:
    """Turn database trouble (damage, a full disk, a lock held too long) into a clean message."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise  # our own SQL is wrong: a bug, keep the traceback
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"ledger {path}: {exc}") from None
    except OSError as exc:
        raise LedgerError(f"ledger {path}: {exc.strerror or exc}") from None
