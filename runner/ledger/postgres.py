"""The ledger in PostgreSQL: `PostgresLedger`, which several daemons may share.

The same claim semantics as SQLite, kept with row locks: every write is one transaction
that reads the row FOR UPDATE (or inserts it, ON CONFLICT DO NOTHING) before changing it,
so a claim has a single winner across any number of processes and machines, and commits
(synchronous_commit as the server has it, on by default) before anything is sent.

One connection per ledger object, shared by the daemon's threads under a mutex. The
connection holds its session's advisory lock (`runner.ledger.postgres_peers`), which is
how others tell it is alive. Losing the connection makes every call raise
`LedgerUnavailable` at once (nothing is claimed, so nothing is sent) until `reconnect`
succeeds; the session that is gone has its `sending` rows reaped by whoever beats next.
Keepalives on both ends bound how long a vanished peer's session lingers (about 10 s).

Passwords: the URL is kept as a `DatabaseUrl`, which prints redacted, and every message
from the driver is scrubbed of the passwords in play before it becomes a LedgerError.

Only the postgres*.py modules import psycopg.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

import psycopg

from runner.ledger import postgres_peers as peers
from runner.ledger import postgres_rows as tables
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
    LedgerUnavailable,
    Row,
    SharedRateLimit,
    State,
    nothing_to_resolve,
)
from runner.ledger.location import DatabaseUrl, scrub
from runner.ledger.postgres_daemons import PostgresPeers
from runner.ledger.postgres_rows import Conn, PostgresReads, stamp
from runner.ledger.postgres_schema import SCHEMA, ensure

# Client and server keepalives: a cut network surfaces within seconds on our side, and the
# server ends a vanished client's session (releasing its lock) within about 10 s.
_SESSION = ("-c TimeZone=UTC -c search_path=" + SCHEMA + " -c tcp_keepalives_idle=5"
            " -c tcp_keepalives_interval=2 -c tcp_keepalives_count=2 -c tcp_user_timeout=8000")
_CONNECT: dict[str, Any] = {
    "autocommit": True, "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5,
    "keepalives_interval": 2, "keepalives_count": 2, "tcp_user_timeout": 8000,
    "options": _SESSION, "application_name": "pushcal",
}


class PostgresLedger(PostgresPeers, PostgresReads):
    """The ledger in a PostgreSQL database's `pushcal` schema; see the module docstring."""

    def __init__(self, url: DatabaseUrl, *, clock: Callable[[], datetime],
                 create: bool = True) -> None:
        """Connect, building the schema first if there is none and `create` is on."""
        self._url, self._clock = url, clock
        self._mutex = threading.Lock()
        self._conn: Conn | None = None
        self._owner = 0
        self._daemon_since: datetime | None = None
        self._is_daemon = False
        self._calendar: tuple[str, str | None] | None = None
        if not self._connect(create=create):
            raise _Absent(f"no pushcal ledger in {url} yet")

    @classmethod
    def open(cls, url: DatabaseUrl, *, clock: Callable[[], datetime],
             create: bool = True) -> PostgresLedger | None:
        """The ledger at `url`, built there first if `create`; None if absent and not."""
        try:
            return cls(url, clock=clock, create=create)
        except _Absent:
            return None

    def _connect(self, *, create: bool) -> bool:
        with self._translated():
            conn = psycopg.connect(self._url.url, **_CONNECT)
        try:
            with self._translated():
                if not ensure(conn, str(self._url), self._now(), create=create):
                    conn.close()
                    return False
                self._owner = peers.register(conn)
                if self._is_daemon:
                    with conn.transaction():
                        self._daemon_since = peers.join(conn, self._owner, self._daemon_since)
                        if self._calendar is not None:
                            peers.announce(conn, self._owner, *self._calendar, reloaded=False)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return True

    def close(self) -> None:
        """Release the connection, and with it this session's claims lock (idempotent)."""
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def reconnect(self) -> None:
        """A new session after the old one was lost; LedgerUnavailable while still away."""
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._connect(create=False)

    # --- writes --------------------------------------------------------------------------

    def claim(self, item: ClaimRequest) -> Row | None:
        """Take the row into `sending`, committed before returning; see `SqliteLedger.claim`."""
        return self.claim_many([item])[0]

    def claim_many(self, items: Sequence[ClaimRequest]) -> list[Row | None]:
        """`claim` for each item in one transaction. A daemon whose calendar is older than
        a live peer's claims nothing: the peer, running the newer one, sends."""
        # Rows are locked in one order whatever the caller's, so two batches never deadlock.
        order = sorted(range(len(items)), key=lambda i: (items[i].key, items[i].account))
        results: list[Row | None] = [None] * len(items)
        with self._write() as conn:
            now = self._now()
            if (self._calendar is not None and not any(i.force_retry for i in items)
                    and peers.behind(conn, self._owner, self._calendar[0])):
                return results
            for index in order:
                results[index] = self._claim(conn, items[index], now)
        return results

    def _claim(self, conn: Conn, item: ClaimRequest, now: datetime) -> Row | None:
        current = tables.fetch(conn, item.key, item.account, lock=True)
        if current is None:
            row = tables.insert(conn, item, State.SENDING, "", "claimed, attempt 1", now,
                                self._owner)
            if row is not None:
                return row
            current = tables.existing(conn, item.key, item.account, lock=True)  # lost the race
        if current.state not in (FORCE_CLAIMABLE if item.force_retry else CLAIMABLE):
            return None
        tables.reclaim(conn, item, now, self._owner)
        forced = " (forced)" if item.force_retry else ""
        info = f"claimed, attempt {current.attempts + 1}{forced}"
        tables.event(conn, current.key, current.account, current.state, State.SENDING, info, now)
        return tables.existing(conn, item.key, item.account)

    def record_step(self, key: str, account: str, step: str, remote_id: str) -> None:
        """Durably remember `step`'s remote id, so a retry of the publish step reuses it."""
        with self._write() as conn:
            row = self._sending(conn, key, account, "record a step of")
            tables.save_steps(conn, key, account, {**row.steps, step: remote_id})
            tables.event(conn, key, account, row.state, row.state, f"step {step}: {remote_id}",
                         self._now())

    def finish(self, key: str, account: str, state: State, *, info: str = "",
               http_status: int | None = None, remote_id: str | None = None,
               location: str | None = None, next_attempt: datetime | None = None) -> Row:
        """Settle a `sending` row; any other starting state is a caller's bug (LedgerError)."""
        if state not in FINISHED_BY_SENDER:
            raise LedgerError(f"finish() cannot set {state.value}: only sent, failed, unknown"
                              " or retry_wait")
        if (state is State.RETRY_WAIT) != (next_attempt is not None):
            raise LedgerError("finish() needs next_attempt for retry_wait, and only for it")
        retry_at = None if next_attempt is None else stamp(next_attempt)
        with self._write() as conn:
            row = self._sending(conn, key, account, "finish")
            tables.save_reply(conn, key, account, http_status, remote_id, location, retry_at)
            return tables.settle(conn, row, state, info, self._now())

    def conclude(self, key: str, account: str, state: State, *, info: str,
                 remote_id: str | None = None, location: str | None = None) -> Row | None:
        """An `accepted` row's final word; None, changing nothing, unless it is `accepted`:
        the row lock makes a replayed callback lose to the first one."""
        if state not in CONCLUDED:
            raise LedgerError(f"conclude() cannot set {state.value}: only sent, failed or unknown")
        with self._write() as conn:
            row = tables.fetch(conn, key, account, lock=True)
            if row is None or row.state is not State.ACCEPTED:
                return None
            tables.save_reply(conn, key, account, row.http_status, remote_id, location, None)
            return tables.settle(conn, row, state, info, self._now())

    def mark(self, key: str, *, entry: str, account: str, scheduled: datetime, endpoint: str,
             state: State, info: str, calendar_hash: str = "", commit: str | None = None) -> bool:
        """Record `missed` or `cancelled` over nothing, a `planned` or a `retry_wait` row."""
        if state not in MARKABLE:
            raise LedgerError(f"mark() is for missed and cancelled, not {state.value}")
        item = ClaimRequest(key, entry, account, scheduled, endpoint, calendar_hash, commit)
        with self._write() as conn:
            now = self._now()
            current = tables.fetch(conn, key, account, lock=True)
            if current is None:
                if tables.insert(conn, item, state, info, info, now, None) is not None:
                    return True
                current = tables.existing(conn, key, account, lock=True)
            if current.state not in MARK_OVER:
                return False
            tables.save_next_attempt(conn, key, account, None)
            tables.settle(conn, current, state, info, now)
            return True

    def resolve(self, entry: str, account: str, *, sent: bool, key: str | None = None,
                location: str | None = None) -> list[Row]:
        """Settle `unknown` rows of entry+account (or only `key`) by a human's word; with
        sent=True, `location` is kept as where it went out."""
        state, word = (State.SENT, "sent") if sent else (State.RETRY_WAIT, "not sent")
        with self._write() as conn:
            now = self._now()
            found = tables.select(conn, "entry = %s AND account = %s", [entry, account], lock=True)
            chosen = [row for row in found if key is None or row.key == key]
            targets = [row for row in chosen if row.state is State.UNKNOWN]
            if not targets:
                raise LedgerError(nothing_to_resolve(entry, account, key, chosen))
            for row in targets:
                tables.save_next_attempt(conn, row.key, account, None if sent else now)
                if sent and location:
                    tables.save_reply(conn, row.key, account, row.http_status, None, location,
                                      None)
            return [tables.settle(conn, row, state, f"resolved by hand: {word}", now)
                    for row in targets]

    def load(self, rows: Sequence[Row], events: Sequence[Event]) -> None:
        """Copy rows and history in as they are (a `sending` row gets no owner, so the next
        daemon's beat turns it `unknown`, as SQLite's recovery would)."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM deliveries LIMIT 1").fetchone():
                raise LedgerError(f"{self._url} already holds deliveries: copy only into an"
                                  " empty ledger")
            tables.load(conn, rows, events)

    # --- the connection ------------------------------------------------------------------

    def _now(self) -> datetime:
        return stamp(self._clock())

    @contextmanager
    def _read(self) -> Iterator[Conn]:
        with self._mutex, self._translated():
            yield self._live()

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        with self._mutex, self._translated():
            conn = self._live()
            with conn.transaction():
                yield conn

    def _live(self) -> Conn:
        if self._conn is None or self._conn.closed:
            raise LedgerUnavailable(f"ledger {self._url}: the database connection is lost;"
                                    " reconnecting")
        return self._conn

    def _sending(self, conn: Conn, key: str, account: str, doing: str) -> Row:
        row = tables.existing(conn, key, account, lock=True)
        if row.state is not State.SENDING:
            raise LedgerError(f"cannot {doing} {key!r} on account {account!r}: it is"
                              f" {row.state.value}, not sending (only the claimer may)")
        return row

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Driver trouble as a LedgerError that names the redacted URL and no password."""
        try:
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if self._conn is not None and (self._conn.closed or self._conn.broken):
                self._conn = None
            state = getattr(exc, "sqlstate", None) or ""
            if self._conn is not None and not state.startswith(("08", "57P")):
                raise LedgerError(self._message(exc)) from None  # a deadlock, a timeout
            raise LedgerUnavailable(self._message(exc)) from None
        except (psycopg.IntegrityError, psycopg.ProgrammingError):
            raise  # our own SQL is wrong: a bug, keep the traceback
        except psycopg.DatabaseError as exc:
            raise LedgerError(self._message(exc)) from None

    def _message(self, exc: Exception) -> str:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return scrub(f"ledger {self._url}: {text}", self._url.secrets())


class _Absent(LedgerError):
    """There is no ledger at this URL, and we were asked not to create one."""


if TYPE_CHECKING:
    _conforms: type[Ledger] = PostgresLedger  # mypy proves PostgresLedger keeps the protocol
    _shares: type[SharedRateLimit] = PostgresLedger
