"""The PostgreSQL ledger's two tables in SQL: how a `Row` and an `Event` are stored and read.

The same columns as the SQLite ledger (`runner.ledger.sqlite_rows`), with native types:
TIMESTAMPTZ truncated to the millisecond (so a row reads back equal on either backend),
JSONB steps, and `owner`, the database session that claimed a `sending` row. `PostgresReads`
holds the `Ledger` protocol's queries; the functions are the statements the writes in
`runner.ledger.postgres` are made of, each run inside the caller's transaction.

Only the postgres*.py modules import psycopg.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from runner.ledger.contract import MARKABLE, ClaimRequest, Event, LedgerError, Row, State

Conn = psycopg.Connection[tuple[Any, ...]]
COLUMNS = (
    "key, entry, account, state, scheduled, endpoint, attempts, claimed, finished,"
    " next_attempt, remote_id, location, http_status, info, calendar_hash, git_commit, steps"
)


def stamp(moment: datetime) -> datetime:
    """The moment in UTC, cut to the millisecond as the SQLite ledger stores it."""
    if moment.utcoffset() is None:
        raise ValueError(f"the ledger needs aware datetimes, got naive {moment!r}")
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _moment(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _row(values: Sequence[Any]) -> Row:
    (key, entry, account, state, scheduled, endpoint, attempts, claimed, finished,
     next_attempt, remote_id, location, http_status, info, calendar_hash, commit, steps) = values
    return Row(
        key=key, entry=entry, account=account, state=State(state),
        scheduled=scheduled.astimezone(UTC), endpoint=endpoint, attempts=attempts,
        claimed=_moment(claimed), finished=_moment(finished), next_attempt=_moment(next_attempt),
        remote_id=remote_id, location=location, http_status=http_status, info=info,
        calendar_hash=calendar_hash, commit=commit, steps=MappingProxyType(dict(steps)),
    )


def select(conn: Conn, where: str, params: Sequence[Any], limit: int | None = None, *,
           lock: bool = False, skip_locked: bool = False) -> list[Row]:
    """Rows matching `where`, by scheduled, key, account; `lock` takes their row locks
    (`skip_locked` passes over rows another transaction holds instead of waiting)."""
    locking = " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE" if lock else ""
    query = (f"SELECT {COLUMNS} FROM deliveries WHERE {where}"
             " ORDER BY scheduled, key, account LIMIT %s" + locking)
    return [_row(values) for values in conn.execute(query, [*params, limit])]


def fetch(conn: Conn, key: str, account: str, *, lock: bool = False) -> Row | None:
    """The row, or None; `lock` holds it until the transaction ends."""
    found = select(conn, "key = %s AND account = %s", [key, account], lock=lock)
    return found[0] if found else None


def existing(conn: Conn, key: str, account: str, *, lock: bool = False) -> Row:
    """The row, which must exist (LedgerError otherwise)."""
    row = fetch(conn, key, account, lock=lock)
    if row is None:
        raise LedgerError(f"nothing is recorded for {key!r} on account {account!r}")
    return row


class PostgresReads:
    """The `Ledger` protocol's read-only half, for `PostgresLedger` to inherit."""

    def _read(self) -> AbstractContextManager[Conn]:
        raise NotImplementedError  # PostgresLedger overrides it with its connection

    def get(self, key: str, account: str) -> Row | None:
        """The row, or None."""
        with self._read() as conn:
            return fetch(conn, key, account)

    def rows(self, *, states: Collection[State] | None = None, entry: str | None = None,
             since: datetime | None = None, limit: int | None = None) -> list[Row]:
        """Rows filtered as asked (`since` bounds `scheduled`), by scheduled, key, account."""
        clauses, params = ["TRUE"], list[Any]()
        if states is not None:
            clauses.append("state = ANY(%s)")
            params.append([state.value for state in states])
        if entry is not None:
            clauses.append("entry = %s")
            params.append(entry)
        if since is not None:
            clauses.append("scheduled >= %s")
            params.append(stamp(since))
        with self._read() as conn:
            return select(conn, " AND ".join(clauses), params, limit)

    def counts(self) -> dict[State, int]:
        """How many rows are in each state, every state present."""
        result = dict.fromkeys(State, 0)
        with self._read() as conn:
            for state, count in conn.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state"):
                result[State(state)] = count
        return result

    def keys_in(self, states: Collection[State], *,
                keys: Collection[str] | None = None) -> set[tuple[str, str]]:
        """The (key, account) pairs of rows in these states; with `keys`, of those keys only
        (one array parameter, looked up by the primary key)."""
        values = [state.value for state in states]
        with self._read() as conn:
            if keys is None:
                found = conn.execute("SELECT key, account FROM deliveries WHERE state = ANY(%s)",
                                     (values,))
            else:
                found = conn.execute("SELECT key, account FROM deliveries WHERE state = ANY(%s)"
                                     " AND key = ANY(%s)", (values, sorted(set(keys))))
            return {(key, account) for key, account in found}

    def history(self, *, key: str | None = None, account: str | None = None,
                entry: str | None = None, limit: int | None = None) -> list[Event]:
        """Events in the order they happened, filtered as asked; `limit` keeps the latest."""
        clauses, params = ["TRUE"], list[Any]()
        for column, value in (("e.key", key), ("e.account", account), ("d.entry", entry)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        query = (
            "SELECT e.key, e.account, e.at, e.from_state, e.to_state, e.info FROM events e"
            f" JOIN deliveries d USING (key, account) WHERE {' AND '.join(clauses)}"
            " ORDER BY e.id DESC LIMIT %s"
        )
        with self._read() as conn:
            found = conn.execute(query, [*params, limit]).fetchall()
        return [Event(k, a, at.astimezone(UTC), None if old is None else State(old), State(new), info)
                for k, a, at, old, new, info in reversed(found)]


def insert(conn: Conn, item: ClaimRequest, state: State, info: str, event_info: str,
           now: datetime, owner: int | None) -> Row | None:
    """A new row in `state`, or None when another session inserted it first."""
    sending = state is State.SENDING
    created = conn.execute(
        f"INSERT INTO deliveries ({COLUMNS}, owner) VALUES ({', '.join(['%s'] * 18)})"
        " ON CONFLICT (key, account) DO NOTHING RETURNING key",
        (item.key, item.entry, item.account, state.value, stamp(item.scheduled), item.endpoint,
         1 if sending else 0, now if sending else None, now if state in MARKABLE else None,
         None, None, None, None, info, item.calendar_hash, item.commit, Jsonb({}),
         owner if sending else None),
    ).fetchone()
    if created is None:
        return None
    event(conn, item.key, item.account, None, state, event_info, now)
    return existing(conn, item.key, item.account)


def reclaim(conn: Conn, item: ClaimRequest, now: datetime, owner: int) -> None:
    """Put an existing row into `sending` for one more attempt, with the calendar's details."""
    conn.execute(
        "UPDATE deliveries SET state = %s, entry = %s, scheduled = %s, endpoint = %s,"
        " calendar_hash = %s, git_commit = %s, attempts = attempts + 1, claimed = %s,"
        " finished = NULL, next_attempt = NULL, http_status = NULL, info = '', owner = %s"
        " WHERE key = %s AND account = %s",
        (State.SENDING.value, item.entry, stamp(item.scheduled), item.endpoint,
         item.calendar_hash, item.commit, now, owner, item.key, item.account),
    )


def save_steps(conn: Conn, key: str, account: str, steps: Mapping[str, str]) -> None:
    """Replace the row's map of step name to remote id."""
    conn.execute("UPDATE deliveries SET steps = %s WHERE key = %s AND account = %s",
                 (Jsonb(dict(steps)), key, account))


def save_reply(conn: Conn, key: str, account: str, http_status: int | None,
               remote_id: str | None, location: str | None, next_attempt: datetime | None) -> None:
    """Note what the API answered; a None remote id or location keeps the stored one."""
    conn.execute(
        "UPDATE deliveries SET http_status = %s, remote_id = COALESCE(%s, remote_id),"
        " location = COALESCE(%s, location), next_attempt = %s WHERE key = %s AND account = %s",
        (http_status, remote_id, location, next_attempt, key, account),
    )


def save_next_attempt(conn: Conn, key: str, account: str, next_attempt: datetime | None) -> None:
    """Set (or with None clear) when the row is next due."""
    conn.execute("UPDATE deliveries SET next_attempt = %s WHERE key = %s AND account = %s",
                 (next_attempt, key, account))


def settle(conn: Conn, row: Row, state: State, info: str, now: datetime) -> Row:
    """Move `row` to a state that ends an attempt (or marks it), noting when."""
    conn.execute("UPDATE deliveries SET state = %s, info = %s, finished = %s, owner = NULL"
                 " WHERE key = %s AND account = %s",
                 (state.value, info, now, row.key, row.account))
    event(conn, row.key, row.account, row.state, state, info, now)
    return existing(conn, row.key, row.account)


def event(conn: Conn, key: str, account: str, old: State | None, new: State, info: str,
          now: datetime) -> None:
    """Append one state change (or a same-state note) to the row's history."""
    conn.execute("INSERT INTO events (key, account, at, from_state, to_state, info)"
                 " VALUES (%s, %s, %s, %s, %s, %s)",
                 (key, account, now, None if old is None else old.value, new.value, info))


def load(conn: Conn, rows: Sequence[Row], events: Sequence[Event]) -> None:
    """Insert rows and events as they are, events in their order (so ids keep it)."""
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO deliveries ({COLUMNS}) VALUES ({', '.join(['%s'] * 17)})",
            [(r.key, r.entry, r.account, r.state.value, r.scheduled, r.endpoint, r.attempts,
              r.claimed, r.finished, r.next_attempt, r.remote_id, r.location, r.http_status,
              r.info, r.calendar_hash, r.commit, Jsonb(dict(r.steps))) for r in rows])
        cursor.executemany(
            "INSERT INTO events (key, account, at, from_state, to_state, info)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(e.key, e.account, e.at, None if e.from_state is None else e.from_state.value,
              e.to_state.value, e.info) for e in events])
