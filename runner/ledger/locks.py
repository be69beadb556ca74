"""The lock files beside a ledger file: one daemon per ledger, and recovery waits for senders.

`<ledger>.lock` is held exclusively by the running daemon, its pid written inside so that a
second daemon can say whose it is. `<ledger>.sending` is held shared by each `pushcal send`
while it sends and exclusively by the daemon's recovery, so recovery never turns a row that
is being sent right now into `unknown`. Both are flocks: the kernel drops one when its
descriptor closes or its process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
from collections.abc import Iterator
from contextlib import contextmanager

from runner.ledger.contract import LedgerError


def lock_daemon(ledger: pathlib.Path) -> int:
    """Take the exclusive flock on `<ledger>.lock` and write our pid in it.

    Returns the descriptor: closing it releases the lock. LedgerError, naming the holder's
    pid, if another daemon holds it.
    """
    fd = _open(_beside(ledger, ".lock"), "the daemon lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise LedgerError(f"another pushcal daemon is running on {ledger} (pid {holder})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
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
    return ledger.with_name(ledger.name + suffix)
