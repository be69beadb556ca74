"""The PostgreSQL ledger's schema: created, recognised and versioned by pushcal itself.

Everything lives in one PostgreSQL schema, `pushcal`, so the ledger can share a database
with other applications without touching their tables. The schema carries a marker table,
`pushcal.ledger_schema` (application name and version): a `pushcal` schema without it
belongs to something else and is never written to, and a newer version is refused with a
message rather than misread. Creation holds a transaction-scoped advisory lock, so several
daemons starting at once build it exactly once.

Only the postgres*.py modules import psycopg.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from runner.ledger.contract import LedgerError, State

SCHEMA = "pushcal"
VERSION = 1
APPLICATION = "pushcal ledger"
# The first key of every advisory lock pushcal takes ("pclg"); the second says what for.
LOCK_SPACE = 0x7063_6C67
CREATE_LOCK = 0  # second key while creating the schema
RATE_LOCK_SPACE = 0x7063_6C68  # per-account rate-limit locks: (this, hashtext(account))

_STATE_LIST = ", ".join(f"'{state.value}'" for state in State)
_TABLES = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE {SCHEMA}.ledger_schema (
        application TEXT NOT NULL, version INTEGER NOT NULL, applied TIMESTAMPTZ NOT NULL)""",
    f"""CREATE TABLE {SCHEMA}.deliveries (
        key TEXT NOT NULL, account TEXT NOT NULL, entry TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ({_STATE_LIST})),
        scheduled TIMESTAMPTZ NOT NULL, endpoint TEXT NOT NULL, attempts INTEGER NOT NULL,
        claimed TIMESTAMPTZ, finished TIMESTAMPTZ, next_attempt TIMESTAMPTZ, remote_id TEXT,
        location TEXT, http_status INTEGER, info TEXT NOT NULL, calendar_hash TEXT NOT NULL,
        git_commit TEXT, steps JSONB NOT NULL DEFAULT '{{}}',
        owner BIGINT,  -- the session that claimed it; see runner.ledger.postgres_peers
        PRIMARY KEY (key, account))""",
    f"CREATE INDEX deliveries_state ON {SCHEMA}.deliveries (state)",
    f"CREATE INDEX deliveries_entry ON {SCHEMA}.deliveries (entry)",
    f"CREATE INDEX deliveries_scheduled ON {SCHEMA}.deliveries (scheduled)",
    f"""CREATE TABLE {SCHEMA}.events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key TEXT NOT NULL,
        account TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, from_state TEXT,
        to_state TEXT NOT NULL CHECK (to_state IN ({_STATE_LIST})), info TEXT NOT NULL,
        FOREIGN KEY (key, account) REFERENCES {SCHEMA}.deliveries (key, account))""",
    f"CREATE INDEX events_row ON {SCHEMA}.events (key, account)",
    f"CREATE SEQUENCE {SCHEMA}.owners",
    f"""CREATE TABLE {SCHEMA}.daemons (
        owner BIGINT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
        since TIMESTAMPTZ NOT NULL, beat TIMESTAMPTZ NOT NULL, calendar_hash TEXT NOT NULL,
        git_commit TEXT, loaded_at TIMESTAMPTZ NOT NULL)""",
    f"""CREATE TABLE {SCHEMA}.calendars (
        calendar_hash TEXT PRIMARY KEY, seen TIMESTAMPTZ NOT NULL)""",
    f"""CREATE TABLE {SCHEMA}.send_slots (
        account TEXT NOT NULL, slot TEXT NOT NULL, at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, slot))""",
    f"CREATE INDEX send_slots_at ON {SCHEMA}.send_slots (account, at)",
)


def ensure(conn: psycopg.Connection[tuple[object, ...]], where: str, now: datetime,
           *, create: bool) -> bool:
    """Check (and with `create`, build) the schema; False if there is no ledger and
    `create` is off. LedgerError for a schema that is someone else's or newer than us."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, CREATE_LOCK))
        tables = _tables(conn)
        if "ledger_schema" not in tables:
            if tables:
                raise LedgerError(
                    f"{where} is not a pushcal ledger: its schema {SCHEMA!r} holds other"
                    " tables; give pushcal a database of its own")
            if not create:
                return False
            for statement in _TABLES:
                conn.execute(statement)
            conn.execute(f"INSERT INTO {SCHEMA}.ledger_schema VALUES (%s, %s, %s)",
                         (APPLICATION, VERSION, now))
            return True
        found = conn.execute(f"SELECT application, MAX(version) FROM {SCHEMA}.ledger_schema"
                             " GROUP BY application").fetchall()
    if [name for name, _ in found] != [APPLICATION]:
        raise LedgerError(f"{where} is not a pushcal ledger: its {SCHEMA}.ledger_schema"
                          " table belongs to something else")
    version = found[0][1]
    if not isinstance(version, int) or version > VERSION:
        raise LedgerError(f"{where} has ledger schema version {version}; this pushcal knows"
                          f" version {VERSION}: upgrade pushcal")
    return True


def _tables(conn: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    found = conn.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n"
                         " ON n.oid = c.relnamespace WHERE n.nspname = %s", (SCHEMA,))
    return {str(name) for (name,) in found}
