"""Several processes on one PostgreSQL ledger: who is alive, whose claims are orphaned.

Every connection a `PostgresLedger` opens takes a number from the `owners` sequence and
holds the session-level advisory lock (LOCK_SPACE, owner) for as long as it lives; each
claim records that owner. PostgreSQL drops the lock the moment the session ends (the
process killed, the connection cut, the server restarted), so "the owner's lock is not
held" is the certain sign that the claimer is gone and can never record an outcome: only
then does `reap` turn its `sending` rows into `unknown`. A live peer's rows are never
touched, whatever its clock or its pace.

Daemons also keep a row in `daemons` (host, pid, since, last beat, calendar): `pushcal
status` lists the live ones, and a daemon whose calendar is older than a live peer's
claims nothing (`behind`), so a half-finished rollout never sends an old form of an entry.
A calendar's age is when a daemon first loaded it by a reload, kept in `calendars`.

Only the postgres*.py modules import psycopg.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from runner.ledger.contract import Peer, Row, State
from runner.ledger.postgres_rows import Conn, select, settle
from runner.ledger.postgres_schema import LOCK_SPACE, RATE_LOCK_SPACE

# The owners whose sessions are alive: their advisory locks are granted in this database.
LIVE = (
    "(SELECT l.objid::bigint FROM pg_locks l WHERE l.locktype = 'advisory'"
    f" AND l.classid = {LOCK_SPACE} AND l.objsubid = 2 AND l.granted"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)
ORPHANED = ("interrupted while sending: its sender's database session ended (process gone"
            " or connection lost) after the claim; it may have been posted")


def register(conn: Conn) -> int:
    """A fresh owner number for this session, its advisory lock held until the session ends."""
    row = conn.execute("SELECT nextval('owners')").fetchone()
    assert row is not None
    owner = int(row[0])
    conn.execute("SELECT pg_advisory_lock(%s, %s::integer)", (LOCK_SPACE, owner))
    return owner


def join(conn: Conn, owner: int, since: datetime | None) -> datetime:
    """Enter this session's daemon in `daemons` (again, after a reconnect); its start time."""
    found = conn.execute(
        "INSERT INTO daemons (owner, host, pid, since, beat, calendar_hash, loaded_at)"
        " VALUES (%s, %s, %s, COALESCE(%s, now()), now(), '', now()) RETURNING since",
        (owner, socket.gethostname(), os.getpid(), since)).fetchone()
    assert found is not None
    return found[0].astimezone(UTC)  # type: ignore[no-any-return]


def announce(conn: Conn, owner: int, calendar_hash: str, commit: str | None, *,
             reloaded: bool) -> None:
    """Record the calendar this daemon runs; a reload makes that calendar the newest."""
    seen = ("ON CONFLICT (calendar_hash) DO UPDATE SET seen = EXCLUDED.seen" if reloaded
            else "ON CONFLICT (calendar_hash) DO NOTHING")
    conn.execute(f"INSERT INTO calendars VALUES (%s, clock_timestamp()) {seen}", (calendar_hash,))
    conn.execute("UPDATE daemons SET calendar_hash = %s, git_commit = %s, loaded_at = now()"
                 " WHERE owner = %s", (calendar_hash, commit, owner))


def behind(conn: Conn, owner: int, calendar_hash: str) -> bool:
    """True if a live peer runs a different calendar that was loaded after ours."""
    found = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM daemons d JOIN calendars c USING (calendar_hash)"
        f" WHERE d.owner <> %s AND d.owner IN {LIVE} AND d.calendar_hash <> %s"
        " AND c.seen > (SELECT seen FROM calendars WHERE calendar_hash = %s))",
        (owner, calendar_hash, calendar_hash)).fetchone()
    return bool(found and found[0])


def beat(conn: Conn, owner: int, daemon: bool) -> None:
    """Note that this daemon is alive, and forget the daemons that are not."""
    if daemon:
        conn.execute("UPDATE daemons SET beat = now() WHERE owner = %s", (owner,))
    conn.execute(f"DELETE FROM daemons WHERE owner NOT IN {LIVE}")


def reap(conn: Conn, now: datetime) -> list[Row]:
    """Turn the `sending` rows of dead (or unrecorded) owners into `unknown`."""
    orphans = select(conn, f"state = %s AND (owner IS NULL OR owner NOT IN {LIVE})",
                     [State.SENDING.value], skip_locked=True)  # busy rows: next beat
    return [settle(conn, row, State.UNKNOWN, ORPHANED, now) for row in orphans]


def peers(conn: Conn) -> list[Peer]:
    """The live daemons, oldest first."""
    found = conn.execute("SELECT host, pid, since, beat, calendar_hash, git_commit FROM daemons"
                         f" WHERE owner IN {LIVE} ORDER BY since, owner")
    return [Peer(host, pid, since.astimezone(UTC), at.astimezone(UTC), digest, commit)
            for host, pid, since, at, digest, commit in found]


def reserve(conn: Conn, account: str, slot: str, count: int, per: float, now: datetime) -> float:
    """Take `account`'s send slot `slot` (count per `per` s, over every session) or say how
    long to wait; per-account advisory locks serialise the sessions asking."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (RATE_LOCK_SPACE, account))
    conn.execute("DELETE FROM send_slots WHERE account = %s"
                 " AND at <= %s - make_interval(secs => %s)", (account, now, per))
    if conn.execute("SELECT 1 FROM send_slots WHERE account = %s AND slot = %s",
                    (account, slot)).fetchone():
        return 0.0  # a peer firing the same occurrence took it: one slot for one send
    found = conn.execute("SELECT COUNT(*), MIN(at) FROM send_slots WHERE account = %s",
                         (account,)).fetchone()
    assert found is not None
    taken, oldest = found
    if taken < count:
        conn.execute("INSERT INTO send_slots VALUES (%s, %s, %s)", (account, slot, now))
        return 0.0
    elapsed: float = (now - oldest).total_seconds()
    return max(0.001, per - elapsed)
