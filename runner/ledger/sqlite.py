"""The ledger in one SQLite file: `SqliteLedger`, the backend of the `Ledger` protocol.

The database runs in WAL mode with synchronous=FULL, so a committed claim survives a crash
or a power cut, and every write is one BEGIN IMMEDIATE transaction: SQLite's write lock,
taken at BEGIN, serialises writers across threads and processes alike, so reading a row and
then writing it inside one transaction is atomic and a claim has a single winner. A new
ledger is built in a draft file and linked into place (`runner.ledger.sqlite_files`), so nobody
opens half of one.

This module holds the writes: which state may follow which. The connection, its
transactions and the checks that its files are still the ones opened are
`runner.ledger.sqlite_connection`; the queries (`SqliteReads`) and the SQL statements for
rows and events are `runner.ledger.sqlite_rows`; the lock files are `runner.ledger.locks`.

The PostgreSQL backend (`runner.ledger.postgres`) keeps the same rules with row locks.

Only this module, `runner.ledger.sqlite_rows` and `runner.ledger.sqlite_files` import sqlite3.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

from runner.ledger import sqlite_rows as tables
from runner.ledger.contract import (
    CLAIMABLE,
    CONCLUDED,
    FINISHED_BY_SENDER,
    FORCE_CLAIMABLE,
    MARK_OVER,
    MARKABLE,
    ClaimRequest,
    Event,
    Ledger,
    LedgerError,
    Peer,
    Row,
    State,
    nothing_to_resolve,
)
from runner.ledger.locks import daemon_running, hold_sending, lock_daemon, sending_idle
from runner.ledger.sqlite_connection import SqliteConnection


class SqliteLedger(SqliteConnection):
    """The ledger in one SQLite file: WAL, synchronous=FULL, BEGIN IMMEDIATE for every write.

    SQLite's write lock serialises writers across threads and processes alike, so reading a
    row and then writing it inside one transaction is atomic: that makes a claim single-winner.
    The connection, its transactions and its trust checks are `SqliteConnection`'s; the
    queries are `SqliteReads`'; this class holds the writes: which state may follow which.
    """

    def acquire_daemon_lock(self) -> None:
        """Hold an exclusive flock on `<path>.lock`; the kernel drops it if the process dies."""
        if not self._lock_fds:
            self._lock_fds = lock_daemon(self._path)

    def recover(self) -> list[Row]:
        """Rows left in `sending` become `unknown`: they may have been posted before a crash.
        A `pushcal send` still sending holds its rows in `sending` too: wait for it first."""
        if not self._lock_fds:
            # Without the lock, another daemon may be sending these very rows right now.
            raise LedgerError("recover() needs the daemon lock: call acquire_daemon_lock() first")
        info = "interrupted while sending: pushcal stopped after the claim; it may have been posted"
        with hold_sending(self._path, exclusive=True), self._write() as conn:
            now = self._now()
            stuck = tables.select(conn, "state = ?", [State.SENDING.value])
            return [tables.settle(conn, row, State.UNKNOWN, info, now) for row in stuck]

    def reap(self, owned: Collection[tuple[str, str]]) -> list[Row]:
        """Rows in `sending` that this daemon does not own and no sender holds become
        `unknown`: a `pushcal send` killed mid-request leaves them, and nobody else would."""
        fd = sending_idle(self._path)
        if fd is None:
            return []  # a sender is sending right now: its rows are not orphans
        info = "its sender stopped while sending (killed?): it may have been posted"
        try:
            with self._write() as conn:
                now = self._now()
                stuck = [row for row in tables.select(conn, "state = ?", [State.SENDING.value])
                         if (row.key, row.account) not in owned]
                return [tables.settle(conn, row, State.UNKNOWN, info, now) for row in stuck]
        finally:
            os.close(fd)

    def orphans(self) -> list[Row]:
        """Rows in `sending` that no live process owns: no daemon runs and no sender sends."""
        if daemon_running(self._path):
            return []  # the daemon's sweep settles them within a second
        fd = sending_idle(self._path)
        if fd is None:
            return []
        try:
            return self.rows(states=[State.SENDING])
        finally:
            os.close(fd)

    def announce(self, calendar_hash: str, commit: str | None) -> None:
        """Nothing to do: an SQLite ledger has one daemon, which has no peer to tell."""

    def beat(self) -> list[Row]:
        """Nothing to reap: the daemon lock means no other daemon's claims are here, and
        `recover` at start took a crashed one's."""
        return []

    def daemons(self) -> list[Peer]:
        """None listed: one daemon per file, and its lock file names it."""
        return []

    def reconnect(self) -> None:
        """A file does not go away the way a server does: nothing to do."""

    def hold_for_sending(self) -> AbstractContextManager[None]:
        """A shared flock on `<path>.sending` while a non-daemon sender sends."""
        return hold_sending(self._path, exclusive=False)

    def claim(self, item: ClaimRequest) -> Row | None:
        """Take the row into `sending` (new: attempts=1; planned or retry_wait: attempts+1).

        Committed before returning. None when the row is in any other state: someone else
        has it or it is settled. `force_retry` (a human's explicit `send`) may also take
        `failed`, `missed` and `cancelled` rows, never `sent`, `sending` or `unknown`.
        """
        return self.claim_many([item])[0]

    def claim_many(self, items: Sequence[ClaimRequest]) -> list[Row | None]:
        """`claim` for each item, all in one transaction (one fsync); results in order."""
        with self._write() as conn:
            now = self._now()
            return [self._claim(conn, item, now) for item in items]

    def _claim(self, conn: sqlite3.Connection, item: ClaimRequest, now: str) -> Row | None:
        current = tables.fetch(conn, item.key, item.account)
        if current is None:
            return tables.insert(conn, item, State.SENDING, "", "claimed, attempt 1", now)
        if current.state not in (FORCE_CLAIMABLE if item.force_retry else CLAIMABLE):
            return None
        tables.reclaim(conn, item, now)
        forced = " (forced)" if item.force_retry else ""
        info = f"claimed, attempt {current.attempts + 1}{forced}"
        tables.event(conn, current.key, current.account, current.state, State.SENDING, info, now)
        return tables.existing(conn, item.key, item.account)

    def record_step(self, key: str, account: str, step: str, remote_id: str) -> None:
        """Durably remember `step`'s remote id, so a retry of the publish step reuses it."""
        with self._write() as conn:
            row = self._sending(conn, key, account, "record a step of")
            tables.save_steps(conn, key, account, {**row.steps, step: remote_id})
            info = f"step {step}: {remote_id}"
            tables.event(conn, key, account, row.state, row.state, info, self._now())

    def finish(self, key: str, account: str, state: State, *, info: str = "",
               http_status: int | None = None, remote_id: str | None = None,
               location: str | None = None, next_attempt: datetime | None = None) -> Row:
        """Settle a `sending` row; any other starting state is a caller's bug (LedgerError)."""
        if state not in FINISHED_BY_SENDER:
            raise LedgerError(f"finish() cannot set {state.value}: only sent, failed, unknown,"
                              " accepted or retry_wait")
        if (state is State.RETRY_WAIT) != (next_attempt is not None):
            raise LedgerError("finish() needs next_attempt for retry_wait, and only for it")
        retry_at = None if next_attempt is None else tables.stamp(next_attempt)
        with self._write() as conn:
            row = self._sending(conn, key, account, "finish")
            tables.save_reply(conn, key, account, http_status, remote_id, location, retry_at)
            return tables.settle(conn, row, state, info, self._now())

    def conclude(self, key: str, account: str, state: State, *, info: str,
                 remote_id: str | None = None, location: str | None = None) -> Row | None:
        """An `accepted` row's final word (a callback, or the wait given up); None when the
        row is not `accepted`, so a replayed or late second callback changes nothing."""
        if state not in CONCLUDED:
            raise LedgerError(f"conclude() cannot set {state.value}: only sent, failed or unknown")
        with self._write() as conn:
            row = tables.fetch(conn, key, account)
            if row is None or row.state is not State.ACCEPTED:
                return None
            tables.save_reply(conn, key, account, row.http_status, remote_id, location, None)
            return tables.settle(conn, row, state, info, self._now())

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
            current = tables.fetch(conn, key, account)
            if current is None:
                tables.insert(conn, item, state, info, info, now)
                return True
            if current.state not in MARK_OVER:
                return False
            tables.save_next_attempt(conn, key, account, None)
            tables.settle(conn, current, state, info, now)
            return True

    def resolve(self, entry: str, account: str, *, sent: bool, key: str | None = None,
                location: str | None = None) -> list[Row]:
        """Settle `unknown` rows of entry+account (or only `key`) by a human's word.

        sent=True -> `sent` (keeping `location`, where `pushcal check` saw it, if given);
        sent=False -> `retry_wait` due now, so the daemon sends it again.
        """
        state, word = (State.SENT, "sent") if sent else (State.RETRY_WAIT, "not sent")
        with self._write() as conn:
            now = self._now()
            found = tables.select(conn, "entry = ? AND account = ?", [entry, account])
            chosen = [row for row in found if key is None or row.key == key]
            targets = [row for row in chosen if row.state is State.UNKNOWN]
            if not targets:
                raise LedgerError(nothing_to_resolve(entry, account, key, chosen))
            retry_at = None if sent else now
            for row in targets:
                tables.save_next_attempt(conn, row.key, account, retry_at)
                if sent and location:
                    tables.save_reply(conn, row.key, account, row.http_status, None, location,
                                      None)
            return [tables.settle(conn, row, state, f"resolved by hand: {word}", now)
                    for row in targets]

    def load(self, rows: Sequence[Row], events: Sequence[Event]) -> None:
        """Copy rows and history in as they are, in one transaction; only into an empty one."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM deliveries LIMIT 1").fetchone():
                raise LedgerError(f"{self._path} already holds deliveries: copy only into an"
                                  " empty ledger")
            tables.load(conn, rows, events)

    def _sending(self, conn: sqlite3.Connection, key: str, account: str, doing: str) -> Row:
        """The row, which must be `sending`: only its claimer may act on it."""
        row = tables.existing(conn, key, account)
        if row.state is not State.SENDING:
            raise LedgerError(f"cannot {doing} {key!r} on account {account!r}: it is"
                              f" {row.state.value}, not sending (only the claimer may)")
        return row


if TYPE_CHECKING:
    _conforms: type[Ledger] = SqliteLedger  # mypy proves SqliteLedger keeps the protocol
