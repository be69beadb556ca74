"""The ledger's two tables in SQL: how a `Row` and an `Event` are stored, read and written.

Times are stored as ISO 8601 UTC text with milliseconds, so they sort as text, and a row's
steps as a JSON object. `SqliteReads` holds the `Ledger` protocol's queries; the functions
are the statements reads and writes are made of, each run on the open connection inside the
caller's transaction. The connection, its transactions and which state may follow which
belong to `SqliteLedger` in `runner.ledger.sqlite`, which inherits `SqliteReads`.

Only this module, `runner.ledger.sqlite` and `runner.ledger.sqlite_files` import sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from runner.ledger.contract import MARKABLE, ClaimRequest, Event, LedgerError, Row, State

_COLUMNS = (
    "key, entry, account, state, scheduled, endpoint, attempts, claimed, finished,"
    " next_attempt, remote_id, location, http_status, info, calendar_hash, git_commit, steps"
)


_CHUNK = 500  # keys per query: well under SQLite's limit on parameters


def stamp(moment: datetime) -> str:
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


def select(conn: sqlite3.Connection, where: str, params: Sequence[Any],
           limit: int | None = None) -> list[Row]:
    """Rows matching the `where` clause, by scheduled, key, account; at most `limit`."""
    query = (f"SELECT {_COLUMNS} FROM deliveries WHERE {where}"
             " ORDER BY scheduled, key, account LIMIT ?")
    cursor = conn.execute(query, [*params, -1 if limit is None else limit])
    return [_row(values) for values in cursor]


def fetch(conn: sqlite3.Connection, key: str, account: str) -> Row | None:
    """The row, or None."""
    found = select(conn, "key = ? AND account = ?", [key, account])
    return found[0] if found else None


def existing(conn: sqlite3.Connection, key: str, account: str) -> Row:
    """The row, which must exist (LedgerError otherwise)."""
    row = fetch(conn, key, account)
    if row is None:
        raise LedgerError(f"nothing is recorded for {key!r} on account {account!r}")
    return row


class SqliteReads:
    """The `Ledger` protocol's read-only half, for `SqliteLedger` to inherit.

    Each query runs inside `_read()`, which `SqliteLedger` supplies: it owns the connection.
    """

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # SqliteLedger overrides it with its connection

    def get(self, key: str, account: str) -> Row | None:
        """The row, or None."""
        with self._read() as conn:
            return fetch(conn, key, account)

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
            params.append(stamp(since))
        with self._read() as conn:
            return select(conn, " AND ".join(clauses), params, limit)

    def counts(self) -> dict[State, int]:
        """How many rows are in each state, every state present."""
        result = dict.fromkeys(State, 0)
        with self._read() as conn:
            query = "SELECT state, COUNT(*) FROM deliveries GROUP BY state"
            for state, count in conn.execute(query):
                result[State(state)] = count
        return result

    def keys_in(self, states: Collection[State], *,
                keys: Collection[str] | None = None) -> set[tuple[str, str]]:
        """The (key, account) pairs of rows in these states; with `keys`, of those keys only,
        looked up by the primary key in chunks (a million rows are never all read)."""
        clause, params = _in(states)
        query = f"SELECT key, account FROM deliveries WHERE {clause}"
        found: set[tuple[str, str]] = set()
        with self._read() as conn:
            if keys is None:
                return {(key, account) for key, account in conn.execute(query, params)}
            wanted = sorted(set(keys))
            for at in range(0, len(wanted), _CHUNK):
                chunk = wanted[at:at + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                found.update(conn.execute(f"{query} AND key IN ({marks})", [*params, *chunk]))
        return found

    def last_activity(self) -> datetime | None:
        """The latest moment anything was recorded, or None for an empty ledger."""
        with self._read() as conn:
            (latest,) = conn.execute("SELECT MAX(at) FROM events").fetchone()
        return None if latest is None else datetime.fromisoformat(latest)

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


def insert(conn: sqlite3.Connection, item: ClaimRequest, state: State, info: str,
           event_info: str, now: str) -> Row:
    """A new row in `state` (sending is attempt 1; missed and cancelled are finished now)."""
    sending = state is State.SENDING
    conn.execute(
        f"INSERT INTO deliveries ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
        (item.key, item.entry, item.account, state.value, stamp(item.scheduled),
         item.endpoint, 1 if sending else 0, now if sending else None,
         now if state in MARKABLE else None, None, None, None, None, info,
         item.calendar_hash, item.commit, "{}"),
    )
    event(conn, item.key, item.account, None, state, event_info, now)
    return existing(conn, item.key, item.account)


def reclaim(conn: sqlite3.Connection, item: ClaimRequest, now: str) -> None:
    """Put an existing row into `sending` for one more attempt, with the calendar's details."""
    conn.execute(
        "UPDATE deliveries SET state = ?, entry = ?, scheduled = ?, endpoint = ?,"
        " calendar_hash = ?, git_commit = ?, attempts = attempts + 1, claimed = ?,"
        " finished = NULL, next_attempt = NULL, http_status = NULL, info = ''"
        " WHERE key = ? AND account = ?",
        (State.SENDING.value, item.entry, stamp(item.scheduled), item.endpoint,
         item.calendar_hash, item.commit, now, item.key, item.account),
    )


def save_steps(conn: sqlite3.Connection, key: str, account: str,
               steps: Mapping[str, str]) -> None:
    """Replace the row's map of step name to remote id."""
    conn.execute("UPDATE deliveries SET steps = ? WHERE key = ? AND account = ?",
                 (json.dumps(dict(steps), sort_keys=True), key, account))


def save_reply(conn: sqlite3.Connection, key: str, account: str, http_status: int | None,
               remote_id: str | None, location: str | None, next_attempt: str | None) -> None:
    """Note what the API answered; a None remote id or location keeps the stored one."""
    conn.execute(
        "UPDATE deliveries SET http_status = ?, remote_id = COALESCE(?, remote_id),"
        " location = COALESCE(?, location), next_attempt = ?"
        " WHERE key = ? AND account = ?",
        (http_status, remote_id, location, next_attempt, key, account),
    )


def save_next_attempt(conn: sqlite3.Connection, key: str, account: str,
                      next_attempt: str | None) -> None:
    """Set (or with None clear) when the row is next due."""
    conn.execute("UPDATE deliveries SET next_attempt = ? WHERE key = ? AND account = ?",
                 (next_attempt, key, account))


def settle(conn: sqlite3.Connection, row: Row, state: State, info: str, now: str) -> Row:
    """Move `row` to a state that ends an attempt (or marks it), noting when."""
    conn.execute(
        "UPDATE deliveries SET state = ?, info = ?, finished = ? WHERE key = ? AND account = ?",
        (state.value, info, now, row.key, row.account),
    )
    event(conn, row.key, row.account, row.state, state, info, now)
    return existing(conn, row.key, row.account)


def event(conn: sqlite3.Connection, key: str, account: str, old: State | None, new: State,
          info: str, now: str) -> None:
    """Append one state change (or a same-state note) to the row's history."""
    conn.execute(
        "INSERT INTO events (key, account, at, from_state, to_state, info)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (key, account, now, None if old is None else old.value, new.value, info),
    )


def load(conn: sqlite3.Connection, rows: Sequence[Row], events: Sequence[Event]) -> None:
    """Insert rows and events as they are, events in their order (so ids keep it)."""
    def moment(value: datetime | None) -> str | None:
        return None if value is None else stamp(value)

    conn.executemany(
        f"INSERT INTO deliveries ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
        [(r.key, r.entry, r.account, r.state.value, stamp(r.scheduled), r.endpoint, r.attempts,
          moment(r.claimed), moment(r.finished), moment(r.next_attempt), r.remote_id,
          r.location, r.http_status, r.info, r.calendar_hash, r.commit,
          json.dumps(dict(r.steps), sort_keys=True)) for r in rows])
    conn.executemany(
        "INSERT INTO events (key, account, at, from_state, to_state, info) VALUES (?, ?, ?, ?, ?, ?)",
        [(e.key, e.account, stamp(e.at), None if e.from_state is None else e.from_state.value,
          e.to_state.value, e.info) for e in events])
