"""Knowing that the ledger file is still the one we opened: its identity, pinned and checked.

SQLite keeps a ledger in three files: the database, its write-ahead log (`-wal`) and the
shared-memory index (`-shm`) through which processes agree on who writes. While a connection
is open all three exist and keep their inode. If one is deleted, truncated or replaced
behind our back, this process and any other stop seeing the same ledger: the other side
would send again what we sent, or our records would go into a file nobody reads. So every
transaction first checks that the three names still point at the inodes we opened
(device and inode, never the path), and a mismatch raises `LedgerUntrusted`, which stops
pushcal with what happened and what to do. The file is never replaced by an empty one.
"""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass

from runner.ledger.contract import LedgerUntrusted

SIDECARS = ("-wal", "-shm")


@dataclass(frozen=True)
class Identity:
    """Which file a name points at: device and inode, and its size (0: truncated)."""

    device: int
    inode: int
    size: int


def identity(path: pathlib.Path) -> Identity | None:
    """The identity of the file at `path` now, or None when nothing is there."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return Identity(info.st_dev, info.st_ino, info.st_size)


def sidecar(path: pathlib.Path, suffix: str) -> pathlib.Path:
    """`<ledger>-wal` or `<ledger>-shm`."""
    return path.with_name(path.name + suffix)


class FileGuard:
    """The identities of a ledger's three files, pinned once open and checked on each use."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.real = path.resolve()  # SQLite keeps -wal and -shm beside the symlink's target
        self.pinned: dict[str, Identity] = {}

    def name(self, suffix: str) -> pathlib.Path:
        """The database by the name it was opened with, or one of its sidecars."""
        return self.path if suffix == "" else sidecar(self.real, suffix)

    def pin(self) -> None:
        """Remember what the names point at now (call with the connection open, in WAL)."""
        for suffix in ("", *SIDECARS):
            found = identity(self.name(suffix))
            if found is not None:
                self.pinned[suffix] = found

    def problem(self) -> str | None:
        """What changed since `pin`, in words, or None when all is as it was."""
        for suffix, was in self.pinned.items():
            name = self.name(suffix)
            now = identity(name)
            if now is None:
                return f"{name} was deleted"
            if (now.device, now.inode) != (was.device, was.inode):
                return f"{name} was replaced by another file"
            if suffix == "" and now.size == 0:
                return f"{name} was truncated to 0 bytes"
        return None

    def problem_with_database(self) -> bool:
        """True if the database file itself is gone, replaced or emptied."""
        was, now = self.pinned.get(""), identity(self.path)
        return was is not None and (now is None or now.size == 0
                                    or (now.device, now.inode) != (was.device, was.inode))

    def check(self) -> None:
        """LedgerUntrusted when the files are not the ones this process opened."""
        what = self.problem()
        if what is not None:
            raise LedgerUntrusted(untrusted_message(self.path, what))

    def sidecars_missing(self) -> list[str]:
        """The `-wal`/`-shm` names that do not exist now."""
        return [str(self.name(s)) for s in SIDECARS if identity(self.name(s)) is None]


def untrusted_message(path: pathlib.Path, what: str) -> str:
    """The one message for a ledger that changed under a running pushcal."""
    return (f"ledger {path} cannot be trusted: {what} while pushcal was using it; pushcal"
            " stopped so that nothing is sent twice or lost. Stop every pushcal on this"
            " ledger, put the original file back or restore it from a backup, check it with"
            " `pushcal status`, then start again")
