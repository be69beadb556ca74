"""The lock files beside a ledger file: one daemon per ledger, and recovery waits for senders.

`<ledger>.lock` is held exclusively by the running daemon, its pid written inside so that a
second daemon can say whose it is. `<ledger>.sending` is held shared by each `pushcal send`
while it sends and exclusively by the daemon's recovery, so recovery never turns a row that
is being sent right now into `unknown`. Both are flocks: the kernel drops one when its
descriptor closes or its process dies, so a crash never leaves a stale lock behind.

Locks follow the file, not the name it was opened by: the lock files sit beside the
ledger's resolved path (a symlink leads to the same lock), and the daemon also holds an
exclusive flock on the database file itself, which the kernel ties to its device and inode,
so a second daemon reaching the same file by a hard link is refused too. (SQLite locks with
fcntl, which on Linux never conflicts with flock.)
"""

from __future__ import annotations

import fcntl
import os
import pathlib
from collections.abc import Iterator
from contextlib import contextmanager

from runner.ledger.contract import LedgerError


def lock_daemon(ledger: pathlib.Path) -> list[int]:
    """Take the exclusive flocks on the ledger file and `<ledger>.lock`; write our pid.

    Returns the descriptors: closing them releases the lock. LedgerError, naming the
    holder's pid, if another daemon holds either.
    """
    fd = _open(_beside(ledger, ".lock"), "the daemon lock")
    try:
        database = os.open(ledger.resolve(), os.O_RDONLY)
    except OSError as exc:
        os.close(fd)
        raise LedgerError(f"cannot open the ledger {ledger}: {exc.strerror}") from None
    try:
        for held in (fd, database):
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        os.close(database)
        raise LedgerError(f"another pushcal daemon is running on {ledger} (pid {holder})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return [fd, database]


def daemon_running(ledger: pathlib.Path) -> bool:
    """True if some process holds the daemon lock of `ledger` now (it is only probed)."""
    path = _beside(ledger, ".lock")
    if not path.exists():
        return False
    fd = _open(path, "the daemon lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the probe's shared lock
    return False


def sending_idle(ledger: pathlib.Path) -> int | None:
    """The exclusive flock on `<ledger>.sending` if no sender holds it now, else None.

    Not waiting: a daemon uses it to tell that rows in `sending` it does not own have no
    live owner left. The caller closes the descriptor."""
    fd = _open(_beside(ledger, ".sending"), "the lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextmanager
def hold_sending(ledger: pathlib.Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the flock on `<ledger>.sending`: shared for a sender, exclusive for recovery."""
    fd = _open(_beside(ledger, ".sending"), "the lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)  # waits for the others
        yield
    finally:
        os.close(fd)


def _open(path: pathlib.Path, what: str) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LedgerError(f"cannot open {what} {path}: {exc.strerror}") from None


def _beside(ledger: pathlib.Path, suffix: str) -> pathlib.Path:
    real = ledger.resolve()  # through symlinks: one file, one lock
    return real.with_name(real.name + suffix)
