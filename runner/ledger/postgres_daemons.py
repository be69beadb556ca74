"""The PostgreSQL ledger's side that several processes share: joining the live daemons,
beating, reaping the claims of the dead, the calendar gate and the shared rate limit.

`PostgresPeers` is a mixin of `PostgresLedger` (runner.ledger.postgres), which supplies the
connection (`_read`, `_write`), the clock and this session's owner number; the SQL is in
`runner.ledger.postgres_peers`, whose docstring tells how death is made certain.

Only the postgres*.py modules import psycopg.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime

from runner.ledger import postgres_peers as peers
from runner.ledger import postgres_rows as tables
from runner.ledger.contract import LedgerError, Peer, Row, State
from runner.ledger.postgres_rows import Conn


class PostgresPeers:
    """Several daemons on one database; see the module docstring."""

    _owner: int
    _is_daemon: bool
    _daemon_since: datetime | None
    _calendar: tuple[str, str | None] | None
    sandbox = False  # a sandbox's ledger is always a throwaway file, never a database

    def _read(self) -> AbstractContextManager[Conn]:
        raise NotImplementedError  # PostgresLedger supplies the connection

    def _write(self) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def _now(self) -> datetime:
        raise NotImplementedError

    def acquire_daemon_lock(self) -> None:
        """Join the live daemons: a shared ledger has room for several."""
        with self._write() as conn:
            self._is_daemon = True
            self._daemon_since = peers.join(conn, self._owner, self._daemon_since)

    def announce(self, calendar_hash: str, commit: str | None) -> None:
        """Record our calendar; a change (a reload) makes it the newest one."""
        reloaded = self._calendar is not None and self._calendar[0] != calendar_hash
        with self._write() as conn:
            peers.announce(conn, self._owner, calendar_hash, commit, reloaded=reloaded)
            self._calendar = (calendar_hash, commit)

    def beat(self) -> list[Row]:
        """We live; the `sending` rows of sessions that are gone become `unknown`."""
        with self._write() as conn:
            peers.beat(conn, self._owner, self._is_daemon)
            return peers.reap(conn, self._now())

    def recover(self) -> list[Row]:
        """At a daemon's start: the rows of dead claimers only, never a live peer's."""
        if not self._is_daemon:
            raise LedgerError("recover() needs the daemon lock: call acquire_daemon_lock() first")
        with self._write() as conn:
            return peers.reap(conn, self._now())

    def daemons(self) -> list[Peer]:
        """The live daemons, oldest first."""
        with self._read() as conn:
            return peers.peers(conn)

    def daemon_running(self) -> bool:
        """Whether any daemon is alive on this ledger."""
        return bool(self.daemons())

    def orphans(self) -> list[Row]:
        """Rows in `sending` whose claimer's session is gone (the next beat reaps them)."""
        with self._read() as conn:
            return tables.select(conn, f"state = %s AND (owner IS NULL OR owner NOT IN"
                                 f" {peers.LIVE})", [State.SENDING.value])

    def reap(self, owned: Collection[tuple[str, str]]) -> list[Row]:
        """The daemon's sweep: as `beat`, only the rows of claimers certainly dead (`owned`,
        this daemon's own, are alive by definition and never among them)."""
        del owned
        with self._write() as conn:
            return peers.reap(conn, self._now())

    def verify(self) -> None:
        """The database is not a file that can be swapped under us; a lost connection is
        `LedgerUnavailable` at the next call, which the daemon survives by reconnecting."""

    def last_activity(self) -> datetime | None:
        """The latest moment anything was recorded."""
        with self._read() as conn:
            found = conn.execute("SELECT MAX(at) FROM events").fetchone()
        return None if found is None or found[0] is None else found[0].astimezone(UTC)

    def hold_for_sending(self) -> AbstractContextManager[None]:
        """Nothing to hold: a sender's live session already keeps its rows from the reaper."""
        return nullcontext()

    def reserve_send(self, account: str, slot: str, count: int, per: float) -> float:
        """One of the account's send slots, counted over every daemon, or the wait for one."""
        with self._write() as conn:
            return peers.reserve(conn, account, slot, count, per, self._now())
