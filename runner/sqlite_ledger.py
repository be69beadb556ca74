"""The ledger in one SQLite file: `SqliteLedger`, the backend of the `Ledger` protocol.

The database runs in WAL mode with synchronous=FULL, so a committed claim survives a crash
or a power cut, and every write is one BEGIN IMMEDIATE transaction: SQLite's write lock,
taken at BEGIN, serialises writers across threads and processes alike, so reading a row and
then writing it inside one transaction is atomic and a claim has a single winner. A new
ledger is built in a draft file and linked into place (`runner.sqlite_files`), so nobody
opens half of one.

A PostgreSQL backend would make the claim one statement, INSERT ... ON CONFLICT (key,
account) DO UPDATE ... WHERE deliveries.state IN (...) RETURNING ..., which PostgreSQL keeps
atomic even at READ COMMITTED: no row returned means the row was not claimable.

Only this module and `runner.sqlite_files` import sqlite3.
"""

from __future__ import annotations

import fcntl
import json
import os
import pathlib
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Self

from runner.ledger import (
    CLAIMABLE,
    FINISHED_BY_SENDER,
    FORCE_CLAIMABLE,
    MARK_OVER,
    MARKABLE,
    ClaimRequest,
    Event,
    Ledger,
    LedgerError,
    Row,
    State,
)
from runner.sqlite_files import build_schema, check_version, create_beside, inspect_file, is_ledger

_BUSY_TIMEOUT = 30.0  # seconds a writer waits for another writer's transaction to end
_COLUMNS = (
    "key, entry, account, state, scheduled, endpoint, attempts, claimed, finished,"
    " next_attempt, remote_id, location, http_status, info, calendar_hash, git_commit, steps"
)


def _stamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, so stored times sort as text."""
    if moment.utcoffset() is None:
        raise ValueError(f"the ledger needs aware datetimes, got naive {moment!r}")
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _row(values: Sequence[Any]) -> Row:
    (key, entry, account, state, scheduled, endpoint, attempts, claimed, finished,
     next_attempt, remote_id, location, http_status, info, calendar_hash, commit, steps) = values
    return Row(
        key=key, entry=entry, account=account, state=State(state),
        scheduled=datetime.fromisoformat(scheduled), endpoint=endpoint, attempts=attempts,
        claimed=_moment(claimed), finished=_moment(finished), next_attempt=_moment(next_attempt),
        remote_id=remote_id, location=location, http_status=http_status, info=info,
        calendar_hash=calendar_hash, commit=commit, steps=MappingProxyType(json.loads(steps)),
    )


def _in(states: Collection[State]) -> tuple[str, list[str]]:
    """`state IN (?, ...)` and its parameters."""
    return f"state IN ({', '.join('?' for _ in states)})", [state.value for state in states]


class SqliteLedger:
    """The ledger in one SQLite file: WAL, synchronous=FULL, BEGIN IMMEDIATE for every write.

    SQLite's write lock serialises writers across threads and processes alike, so reading a
    row and then writing it inside one transaction is atomic: that makes a claim single-winner.
    (A server backend would use INSERT ... ON CONFLICT DO UPDATE ... WHERE state IN (...).)
    """

    def __init__(self, path: pathlib.Path, *, clock: Callable[[], datetime]) -> None:
        """Open the ledger at `path`, creating it (and its directory) if it does not exist."""
        self._path = path
        self._clock = clock
        self._mutex = threading.Lock()  # one connection, shared by the daemon's threads
        self._lock_fd: int | None = None
        with _translated(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = inspect_file(path)
            if fresh and not path.exists():
                fresh = not create_beside(path, self._now())
            self._conn = sqlite3.connect(
                path, isolation_level=None, timeout=_BUSY_TIMEOUT, check_same_thread=False
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
        check_version(self._conn, self._path)

    def close(self) -> None:
        """Release the database and the daemon lock (idempotent)."""
        with self._mutex:
            self._conn.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # closing the descriptor drops the flock
                self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def acquire_daemon_lock(self) -> None:
        """Hold an exclusive flock on `<path>.lock`; the kernel drops it if the process dies."""
        if self._lock_fd is not None:
            return
        lock_path = self._path.with_name(self._path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot open the daemon lock {lock_path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LedgerError(
                f"another pushcal daemon is running on {self._path} (pid {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def recover(self) -> list[Row]:
        """Rows left in `sending` become `unknown`: they may have been posted before a crash.
        A `pushcal send` still sending holds its rows in `sending` too: wait for it first."""
        if self._lock_fd is None:
            # Without the lock, another daemon may be sending these very rows right now.
            raise LedgerError("recover() needs the daemon lock: call acquire_daemon_lock() first")
        info = "interrupted while sending: pushcal stopped after the claim; it may have been posted"
        with self._flock(".sending", fcntl.LOCK_EX), self._write() as conn:
            now = self._now()
            stuck = self._select(conn, "state = ?", [State.SENDING.value])
            return [self._settle(conn, row, State.UNKNOWN, info, now) for row in stuck]

    def hold_for_sending(self) -> AbstractContextManager[None]:
        """A shared flock on `<path>.sending` while a non-daemon sender sends."""
        return self._flock(".sending", fcntl.LOCK_SH)

    @contextmanager
    def _flock(self, suffix: str, mode: int) -> Iterator[None]:
        path = self._path.with_name(self._path.name + suffix)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot open the lock {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, mode)  # released when the descriptor closes, or the process dies
            yield
        finally:
            os.close(fd)

    def plan(self, key: str, *, entry: str, account: str, scheduled: datetime, endpoint: str,
             calendar_hash: str = "", commit: str | None = None) -> bool:
        """Insert a `planned` row unless the row exists; True if inserted."""
        item = ClaimRequest(key, entry, account, scheduled, endpoint, calendar_hash, commit)
        with self._write() as conn:
            if self._fetch(conn, key, account) is not None:
                return False
            self._insert(conn, item, State.PLANNED, "", "planned", self._now())
            return True

    def claim(self, key: str, *, entry: str, account: str, scheduled: datetime, endpoint: str,
              calendar_hash: str, commit: str | None, force_retry: bool = False) -> Row | None:
        """Take the row into `sending` (new: attempts=1; planned or retry_wait: attempts+1).

        Committed before returning. None when the row is in any other state: someone else
        has it or it is settled. `force_retry` (a human's explicit `send`) may also take
        `failed`, `missed` and `cancelled` rows, never `sent`, `sending` or `unknown`.
        """
        item = ClaimRequest(key, entry, account, scheduled, endpoint, calendar_hash, commit,
                            force_retry)
        return self.claim_many([item])[0]

    def claim_many(self, items: Sequence[ClaimRequest]) -> list[Row | None]:
        """`claim` for each item, all in one transaction (one fsync); results in order."""
        with self._write() as conn:
            now = self._now()
            return [self._claim(conn, item, now) for item in items]

    def _claim(self, conn: sqlite3.Connection, item: ClaimRequest, now: str) -> Row | None:
        current = self._fetch(conn, item.key, item.account)
        if current is None:
            return self._insert(conn, item, State.SENDING, "", "claimed, attempt 1", now)
        if current.state not in (FORCE_CLAIMABLE if item.force_retry else CLAIMABLE):
            return None
        conn.execute(
            "UPDATE deliveries SET state = ?, entry = ?, scheduled = ?, endpoint = ?,"
            " calendar_hash = ?, git_commit = ?, attempts = attempts + 1, claimed = ?,"
            " finished = NULL, next_attempt = NULL, http_status = NULL, info = ''"
            " WHERE key = ? AND account = ?",
            (State.SENDING.value, item.entry, _stamp(item.scheduled), item.endpoint,
             item.calendar_hash, item.commit, now, item.key, item.account),
        )
        forced = " (forced)" if item.force_retry else ""
        info = f"claimed, attempt {current.attempts + 1}{forced}"
        self._event(conn, current.key, current.account, current.state, State.SENDING, info, now)
        return self._existing(conn, item.key, item.account)

    def record_step(self, key: str, account: str, step: str, remote_id: str) -> None:
        """Durably remember `step`'s remote id, so a retry of the publish step reuses it."""
        with self._write() as conn:
            row = self._sending(conn, key, account, "record a step of")
            steps = json.dumps({**row.steps, step: remote_id}, sort_keys=True)
            conn.execute("UPDATE deliveries SET steps = ? WHERE key = ? AND account = ?",
                         (steps, key, account))
            info = f"step {step}: {remote_id}"
            self._event(conn, key, account, row.state, row.state, info, self._now())

    def finish(self, key: str, account: str, state: State, *, info: str = "",
               http_status: int | None = None, remote_id: str | None = None,
               location: str | None = None, next_attempt: datetime | None = None) -> Row:
        """Settle a `sending` row; any other starting state is a caller's bug (LedgerError)."""
        if state not in FINISHED_BY_SENDER:
            raise LedgerError(f"finish() cannot set {state.value}: only sent, failed, unknown"
                              " or retry_wait")
        if (state is State.RETRY_WAIT) != (next_attempt is not None):
            raise LedgerError("finish() needs next_attempt for retry_wait, and only for it")
        retry_at = None if next_attempt is None else _stamp(next_attempt)
        with self._write() as conn:
            row = self._sending(conn, key, account, "finish")
            conn.execute(
                "UPDATE deliveries SET http_status = ?, remote_id = COALESCE(?, remote_id),"
                " location = COALESCE(?, location), next_attempt = ?"
                " WHERE key = ? AND account = ?",
                (http_status, remote_id, location, retry_at, key, account),
            )
            return self._settle(conn, row, state, info, self._now())

    def mark(self, key: str, *, entry: str, account: str, scheduled: datetime, endpoint: str,
             state: State, info: str, calendar_hash: str = "", commit: str | None = None) -> bool:
        """Record `missed` or `cancelled` over nothing, a `planned` or a `retry_wait` row.

        Never touches a row that is sending, sent, unknown, failed or already marked;
        returns True if it changed something.
        """
        if state not in MARKABLE:
            raise LedgerError(f"mark() is for missed and cancelled, not {state.value}")
        item = ClaimRequest(key, entry, account, scheduled, endpoint, calendar_hash, commit)
        with self._write() as conn:
            now = self._now()
            current = self._fetch(conn, key, account)
            if current is None:
                self._insert(conn, item, state, info, info, now)
                return True
            if current.state not in MARK_OVER:
                return False
            conn.execute("UPDATE deliveries SET next_attempt = NULL WHERE key = ? AND account = ?",
                         (key, account))
            self._settle(conn, current, state, info, now)
            return True

    def resolve(self, entry: str, account: str, *, sent: bool, key: str | None = None) -> list[Row]:
        """Settle `unknown` rows of entry+account (or only `key`) by a human's word.

        sent=True -> `sent`; sent=False -> `retry_wait` due now, so the daemon sends it again.
        """
        state, word = (State.SENT, "sent") if sent else (State.RETRY_WAIT, "not sent")
        with self._write() as conn:
            now = self._now()
            found = self._select(conn, "entry = ? AND account = ?", [entry, account])
            chosen = [row for row in found if key is None or row.key == key]
            targets = [row for row in chosen if row.state is State.UNKNOWN]
            if not targets:
                raise LedgerError(_nothing_to_resolve(entry, account, key, chosen))
            retry_at = None if sent else now
            for row in targets:
                conn.execute("UPDATE deliveries SET next_attempt = ? WHERE key = ? AND account = ?",
                             (retry_at, row.key, account))
            return [self._settle(conn, row, state, f"resolved by hand: {word}", now)
                    for row in targets]

    def get(self, key: str, account: str) -> Row | None:
        """The row, or None."""
        with self._read() as conn:
            return self._fetch(conn, key, account)

    def rows(self, *, states: Collection[State] | None = None, entry: str | None = None,
             since: datetime | None = None, limit: int | None = None) -> list[Row]:
        """Rows filtered as asked (`since` bounds `scheduled`), by scheduled, key, account."""
        clauses, params = ["1"], []
        if states is not None:
            clause, values = _in(states)
            clauses.append(clause)
            params += values
        if entry is not None:
            clauses.append("entry = ?")
            params.append(entry)
        if since is not None:
            clauses.append("scheduled >= ?")
            params.append(_stamp(since))
        with self._read() as conn:
            return self._select(conn, " AND ".join(clauses), params, limit)

    def due_retries(self, now: datetime) -> list[Row]:
        """`retry_wait` rows whose next attempt is at or before `now`."""
        with self._read() as conn:
            return self._select(conn, "state = ? AND next_attempt <= ?",
                                [State.RETRY_WAIT.value, _stamp(now)])

    def counts(self) -> dict[State, int]:
        """How many rows are in each state, every state present."""
        result = dict.fromkeys(State, 0)
        with self._read() as conn:
            query = "SELECT state, COUNT(*) FROM deliveries GROUP BY state"
            for state, count in conn.execute(query):
                result[State(state)] = count
        return result

    def keys_in(self, states: Collection[State]) -> set[tuple[str, str]]:
        """The (key, account) pairs of rows in these states."""
        clause, params = _in(states)
        with self._read() as conn:
            cursor = conn.execute(f"SELECT key, account FROM deliveries WHERE {clause}", params)
            return {(key, account) for key, account in cursor}

    def history(self, *, key: str | None = None, account: str | None = None,
                entry: str | None = None, limit: int | None = None) -> list[Event]:
        """Events in the order they happened, filtered as asked; `limit` keeps the latest."""
        clauses, params = ["1"], []
        for column, value in (("e.key", key), ("e.account", account), ("d.entry", entry)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        query = (
            "SELECT e.key, e.account, e.at, e.from_state, e.to_state, e.info FROM events e"
            f" JOIN deliveries d USING (key, account) WHERE {' AND '.join(clauses)}"
            " ORDER BY e.id DESC LIMIT ?"
        )
        with self._read() as conn:
            found = conn.execute(query, [*params, -1 if limit is None else limit]).fetchall()
        return [
            Event(k, a, datetime.fromisoformat(at), None if old is None else State(old),
                  State(new), info)
            for k, a, at, old, new, info in reversed(found)
        ]

    def _now(self) -> str:
        return _stamp(self._clock())

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._mutex, _translated(self._path):
            yield self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken at BEGIN, released at COMMIT."""
        with self._mutex, _translated(self._path):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back already
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _select(self, conn: sqlite3.Connection, where: str, params: Sequence[Any],
                limit: int | None = None) -> list[Row]:
        query = (f"SELECT {_COLUMNS} FROM deliveries WHERE {where}"
                 " ORDER BY scheduled, key, account LIMIT ?")
        cursor = conn.execute(query, [*params, -1 if limit is None else limit])
        return [_row(values) for values in cursor]

    def _fetch(self, conn: sqlite3.Connection, key: str, account: str) -> Row | None:
        found = self._select(conn, "key = ? AND account = ?", [key, account])
        return found[0] if found else None

    def _existing(self, conn: sqlite3.Connection, key: str, account: str) -> Row:
        row = self._fetch(conn, key, account)
        if row is None:
            raise LedgerError(f"nothing is recorded for {key!r} on account {account!r}")
        return row

    def _sending(self, conn: sqlite3.Connection, key: str, account: str, doing: str) -> Row:
        """The row, which must be `sending`: only its claimer may act on it."""
        row = self._existing(conn, key, account)
        if row.state is not State.SENDING:
            raise LedgerError(f"cannot {doing} {key!r} on account {account!r}: it is"
                              f" {row.state.value}, not sending (only the claimer may)")
        return row

    def _insert(self, conn: sqlite3.Connection, item: ClaimRequest, state: State, info: str,
                event_info: str, now: str) -> Row:
        sending = state is State.SENDING
        conn.execute(
            f"INSERT INTO deliveries ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
            (item.key, item.entry, item.account, state.value, _stamp(item.scheduled),
             item.endpoint, 1 if sending else 0, now if sending else None,
             now if state in MARKABLE else None, None, None, None, None, info,
             item.calendar_hash, item.commit, "{}"),
        )
        self._event(conn, item.key, item.account, None, state, event_info, now)
        return self._existing(conn, item.key, item.account)

    def _settle(self, conn: sqlite3.Connection, row: Row, state: State, info: str,
                now: str) -> Row:
        """Move `row` to a state that ends an attempt (or marks it), noting when."""
        conn.execute(
            "UPDATE deliveries SET state = ?, info = ?, finished = ? WHERE key = ? AND account = ?",
            (state.value, info, now, row.key, row.account),
        )
        self._event(conn, row.key, row.account, row.state, state, info, now)
        return self._existing(conn, row.key, row.account)

    def _event(self, conn: sqlite3.Connection, key: str, account: str, old: State | None,
               new: State, info: str, now: str) -> None:
        conn.execute(
            "INSERT INTO events (key, account, at, from_state, to_state, info)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key, account, now, None if old is None else old.value, new.value, info),
        )


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


def _nothing_to_resolve(entry: str, account: str, key: str | None, rows: Sequence[Row]) -> str:
    what = f"entry {entry!r} on account {account!r}" + (f" (key {key!r})" if key else "")
    if not rows:
        return f"nothing is recorded for {what}"
    listed = ", ".join(f"{row.key}: {row.state.value}" for row in rows[:10])
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f"nothing unknown to resolve for {what}; recorded: {listed}{more}"


if TYPE_CHECKING:
    _conforms: type[Ledger] = SqliteLedger  # mypy proves SqliteLedger keeps the protocol
