"""A ledger opened only to read it: `SqliteReader`, for status, history, plan and check.

It never creates, converts or repairs anything: the file is opened through SQLite's
`file:...?mode=ro` URI, so a typo in `--state` stays a missing ledger (not a new one) and an
empty or foreign file is named, not turned into a ledger. When no `-wal` file sits beside
the ledger, no writer has it open and every commit is in the main file, so it is opened
`immutable`: SQLite then needs no `-shm` either, which is what lets a healthy ledger in a
read-only directory be read (plain `mode=ro` would have to create one, and fail there).

Only this module and the other `runner.ledger.sqlite*` modules import sqlite3.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pathlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from runner.ledger.contract import LedgerError, Row, State
from runner.ledger.sqlite_files import check_version, is_ledger
from runner.ledger.sqlite_rows import SqliteReads

SANDBOX_MARK = 0x5342  # PRAGMA user_version of a ledger that only a sandbox has written ("SB")


class SqliteReader(SqliteReads):
    """The read half of the ledger at `path`, which must exist and be a pushcal ledger."""

    def __init__(self, path: pathlib.Path) -> None:
        self._path = path
        self._mutex = threading.Lock()
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is not a file"
            raise LedgerError(f"no ledger at {path}: it {what}")
        if path.stat().st_size == 0:
            raise LedgerError(f"no ledger at {path}: the file is empty")
        quiet = not any(path.with_name(path.name + end).exists() for end in ("-wal", "-journal"))
        uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if quiet else "")
        try:
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            if not is_ledger(self._conn):
                raise LedgerError(f"{path} is not a pushcal ledger: it is another SQLite database")
            check_version(self._conn, path)
            (mark,) = self._conn.execute("PRAGMA user_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{path} is not a pushcal ledger or is damaged: {exc}") from None
        self.sandbox = mark == SANDBOX_MARK

    def close(self) -> None:
        """Release the database (idempotent)."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def daemon_running(self) -> bool:
        """True if a daemon holds this ledger's lock now (probed without creating the file)."""
        return _busy(_beside(self._path, ".lock"))

    def orphans(self) -> list[Row]:
        """Rows in `sending` that no live process owns: no daemon runs and no sender sends."""
        if self.daemon_running() or _busy(_beside(self._path, ".sending")):
            return []
        return self.rows(states=[State.SENDING])

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            try:
                yield self._conn
            except sqlite3.DatabaseError as exc:
                raise LedgerError(f"ledger {self._path}: {exc}") from None


def _busy(path: pathlib.Path) -> bool:
    """True if someone holds a flock on `path`; opened read-only, so nothing is created."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # never taken: nobody holds it
    except OSError as exc:
        if exc.errno == errno.EACCES:
            return False
        raise LedgerError(f"cannot probe the lock {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the probe's lock
    return False


def _beside(ledger: pathlib.Path, suffix: str) -> pathlib.Path:
    real = ledger.resolve()  # the lock files sit beside the resolved ledger, as locks.py puts them
    return real.with_name(real.name + suffix)
