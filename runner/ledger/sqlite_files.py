"""The SQLite ledger file itself: its schema, recognising one, and creating one safely.

A ledger is marked by an application id in the SQLite header ("pclg") and a schema version
row. A file that is not ours is only ever read, never written. A new ledger is built in a
draft file beside the target, in WAL mode with synchronous=FULL and one BEGIN IMMEDIATE
transaction, then hard-linked into place, so no process ever opens half of one; where hard
links are missing the caller builds the schema in place instead.

Only this module, `runner.ledger.sqlite` and `runner.ledger.sqlite_rows` import sqlite3.
"""

from __future__ import annotations

import errno
import os
import pathlib
import sqlite3
import tempfile
from contextlib import suppress

from runner.ledger.contract import LedgerError, LedgerUntrusted, State

_SQLITE_MAGIC = b"SQLite format 3\x00"
_APPLICATION_ID = 0x7063_6C67  # "pclg" in the SQLite header: this file is a pushcal ledger
# 2: `accepted` (asynchronous uploads) joins the states the CHECK constraints allow.
_SCHEMA_VERSION = 2
_STATE_LIST = ", ".join(f"'{state.value}'" for state in State)
_SCHEMA = (
    f"PRAGMA application_id = {_APPLICATION_ID}",
    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied TEXT NOT NULL)",
    f"""CREATE TABLE deliveries (
        key TEXT NOT NULL, account TEXT NOT NULL, entry TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ({_STATE_LIST})),
        scheduled TEXT NOT NULL, endpoint TEXT NOT NULL, attempts INTEGER NOT NULL,
        claimed TEXT, finished TEXT, next_attempt TEXT, remote_id TEXT, location TEXT,
        http_status INTEGER, info TEXT NOT NULL, calendar_hash TEXT NOT NULL, git_commit TEXT,
        steps TEXT NOT NULL DEFAULT '{{}}',
        PRIMARY KEY (key, account))""",
    "CREATE INDEX deliveries_state ON deliveries (state)",
    "CREATE INDEX deliveries_entry ON deliveries (entry)",
    "CREATE INDEX deliveries_scheduled ON deliveries (scheduled)",
    f"""CREATE TABLE events (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL, account TEXT NOT NULL, at TEXT NOT NULL,
        from_state TEXT, to_state TEXT NOT NULL CHECK (to_state IN ({_STATE_LIST})),
        info TEXT NOT NULL,
        FOREIGN KEY (key, account) REFERENCES deliveries (key, account))""",
    "CREATE INDEX events_row ON events (key, account)",
)
# Indexes added since a schema version was first written: an older pushcal reading the file
# ignores them, so they need no version of their own, and every writable open adds them.
# events_at: the daemon's start asks for the ledger's last record (MAX(at)), which without
# it reads every event (0.12 s a time at two million events).
_LATER_INDEXES = ("CREATE INDEX IF NOT EXISTS events_at ON events (at)",)


def refuse_unsafe_open(path: pathlib.Path, daemon_running: bool, missing: list[str]) -> None:
    """LedgerUntrusted when opening `path` now would show a ledger older than the truth.

    A running daemon's connection keeps `-wal` and `-shm` in place; if they are gone, what it
    wrote since its last checkpoint is invisible to us, and rows it sent would look unsent.
    A zero-byte file that pushcal's lock files sit beside was a ledger once (truncated or
    overwritten): treating it as new would send recent posts again."""
    if path.is_file() and daemon_running and missing:
        raise LedgerUntrusted(
            f"ledger {path} cannot be trusted: a daemon is running on it but {missing[0]} was"
            " deleted, so what it recorded lately cannot be seen: stop the daemon (it saves"
            " what it wrote when it notices), check `pushcal status`, then try again")
    used = [p for p in (_beside(path, ".lock"), _beside(path, ".sending")) if p.exists()]
    if path.is_file() and path.stat().st_size == 0 and used:
        raise LedgerUntrusted(
            f"ledger {path} is empty (0 bytes) but pushcal has used it ({used[0]} is beside"
            " it): it was truncated or overwritten, and starting afresh would send recent"
            " posts again. Restore it from a backup; to really start with no record of what"
            f" was sent, delete {path} and {used[0]}")


def inspect_file(path: pathlib.Path) -> bool:
    """True if `path` is to be created; LedgerError unless it already is a pushcal ledger.

    Only reads: a file that is not ours is never written to, not even by a WAL checkpoint.
    """
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return True
    if not path.is_file():
        raise LedgerError(f"{path} is not a pushcal ledger: it is not a file")
    with path.open("rb") as handle:
        if handle.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
            raise LedgerError(f"{path} is not a pushcal ledger: it is not an SQLite database")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if is_ledger(conn):
            return False
        if _is_empty(conn):
            return True  # a creation that crashed before its first commit
        raise LedgerError(f"{path} is not a pushcal ledger: it is another SQLite database")
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path} is not a pushcal ledger or is damaged: {exc}") from None
    finally:
        conn.close()


def create_beside(path: pathlib.Path, now: str) -> bool:
    """Build a ledger in a draft file, then link it into place: nobody sees half of one.

    Linking never replaces a file, so when two processes create the same ledger at once one
    link wins and the other draft is dropped. False if this file system has no hard links.
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(handle)
    draft = pathlib.Path(name)
    try:
        conn = sqlite3.connect(draft, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            build_schema(conn, now)
            conn.execute("COMMIT")
        finally:
            conn.close()
        with suppress(FileExistsError):  # another process made it first; theirs will do
            os.link(draft, path)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
            raise
        return False
    finally:
        draft.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the new name itself durable
    finally:
        os.close(directory)
    return True


def build_schema(conn: sqlite3.Connection, now: str) -> None:
    """Create the tables of an empty database, inside the caller's transaction."""
    for statement in (*_SCHEMA, *_LATER_INDEXES):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (_SCHEMA_VERSION, now))


def is_ledger(conn: sqlite3.Connection) -> bool:
    """True if the database carries our application id and our tables."""
    (application_id,) = conn.execute("PRAGMA application_id").fetchone()
    names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    return bool(application_id == _APPLICATION_ID and {"deliveries", "events"} <= names)


def _is_empty(conn: sqlite3.Connection) -> bool:
    (application_id,) = conn.execute("PRAGMA application_id").fetchone()
    return bool(application_id == 0 and not conn.execute("SELECT 1 FROM sqlite_master").fetchone())


def check_version(conn: sqlite3.Connection, path: pathlib.Path, now: str | None = None) -> None:
    """Refuse a ledger written by a newer pushcal; bring an older one up to date when
    opened to write (`now` given); read-only, an older one reads as it is."""
    (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    if version is None or version > _SCHEMA_VERSION:
        raise LedgerError(f"{path} has ledger schema version {version}; this pushcal knows"
                          f" version {_SCHEMA_VERSION}: upgrade pushcal")
    if version < _SCHEMA_VERSION and now is not None:
        _migrate(conn, now)
    if now is not None:
        for statement in _LATER_INDEXES:
            conn.execute(statement)


def _migrate(conn: sqlite3.Connection, now: str) -> None:
    """Version 1 to 2: SQLite cannot change a CHECK constraint in place, so both tables are
    built again with the new state list and the rows copied, in one transaction (SQLite's
    documented rebuild). Foreign keys are off meanwhile, as that procedure requires."""
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            if version == 1:  # another process may have migrated it meanwhile
                _rebuild(conn, now)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _rebuild(conn: sqlite3.Connection, now: str) -> None:
    for index in ("deliveries_state", "deliveries_entry", "deliveries_scheduled", "events_row",
                  "events_at"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    conn.execute("ALTER TABLE deliveries RENAME TO deliveries_v1")
    conn.execute("ALTER TABLE events RENAME TO events_v1")
    for statement in _SCHEMA[2:]:  # the tables and indexes, not the id or the version table
        conn.execute(statement)
    conn.execute("INSERT INTO deliveries SELECT * FROM deliveries_v1")
    conn.execute("INSERT INTO events SELECT * FROM events_v1")
    conn.execute("DROP TABLE events_v1")
    conn.execute("DROP TABLE deliveries_v1")
    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (_SCHEMA_VERSION, now))



def _beside(ledger: pathlib.Path, suffix: str) -> pathlib.Path:
    real = ledger.resolve()
    return real.with_name(real.name + suffix)
