"""The ledger: what actually happened to each (occurrence key, account), and the rules for it.

It is the at-most-once guarantee. A row is claimed (moved to `sending`) in one committed
transaction before anything is sent, and only the claimer sends; a crash after the claim
leaves `sending`, which `recover` turns into `unknown`, never back into something sendable.
Every state change is appended to `events`, so a row's history is never lost.

This module holds the records and the contract only and imports no database driver. Callers
see `Row`, `State` and the `Ledger` protocol; the SQLite backend is `SqliteLedger` in
`runner.ledger.sqlite`, the PostgreSQL one, which several daemons may share,
`PostgresLedger` in `runner.ledger.postgres`; `runner.ledger.location.open_ledger` picks one.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from runner.errors import PushcalError


class LedgerError(PushcalError):
    """The ledger cannot do what was asked: not a ledger, locked, or a row in the wrong state."""


class LedgerUntrusted(LedgerError):
    """The ledger's files changed under a running pushcal (deleted, truncated, replaced):
    nothing more may be claimed through it. The message says what happened and what to do."""


class LedgerUnavailable(LedgerError):
    """The database cannot be reached right now (a server restarting, a network cut): nothing
    was written; `reconnect` may bring it back."""


class State(enum.StrEnum):
    """Where one (occurrence, account) stands; see docs/design.md "Delivery semantics".

    A `str` too (StrEnum is `str, Enum` whose str() is the value), so it prints and compares
    as its name in output and JSON.
    """

    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    # OneAll accepted an asynchronous upload (a video) and will say later how it went: never
    # sent again, and concluded by its callback, or `unknown` when none comes in time.
    ACCEPTED = "accepted"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    UNKNOWN = "unknown"  # may have been posted: waits for a human (`resolve`)
    MISSED = "missed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """True for states nothing moves out of on its own."""
        return self in {State.SENT, State.FAILED, State.MISSED, State.CANCELLED}


# `cancelled` never reached OneAll: when its entry comes back to the calendar (re-enabled,
# restored by a revert), the daemon may claim it like a planned one.
CLAIMABLE = frozenset({State.PLANNED, State.RETRY_WAIT, State.CANCELLED})
MARK_OVER = frozenset({State.PLANNED, State.RETRY_WAIT})  # what missed/cancelled may replace
# What a forced claim (a human's `send`) may also take: states that provably never reached
# OneAll. `sent`, `unknown` and `sending` are never claimable: that is the at-most-once rule.
FORCE_CLAIMABLE = CLAIMABLE | {State.FAILED, State.MISSED, State.CANCELLED}
FINISHED_BY_SENDER = frozenset({State.SENT, State.FAILED, State.UNKNOWN, State.RETRY_WAIT,
                                State.ACCEPTED})
CONCLUDED = frozenset({State.SENT, State.FAILED, State.UNKNOWN})  # what `accepted` may become
# The step under which a row keeps the SHA-256 of its callback token (never the token).
CALLBACK_STEP = "callback token sha256"
MARKABLE = frozenset({State.MISSED, State.CANCELLED})
# The states that wait for a person: `status --check` fails on them, and alerts name them.
NEEDS_A_HUMAN = (State.UNKNOWN, State.FAILED, State.MISSED)
# What the scheduler never schedules again: every state but planned and cancelled.
SETTLED = frozenset(State) - {State.PLANNED, State.CANCELLED}


@dataclass(frozen=True)
class Row:
    """One (occurrence key, account) as recorded; all times are aware UTC, to the millisecond."""

    key: str
    entry: str
    account: str
    state: State
    scheduled: datetime
    endpoint: str  # provider table key of the final (publish) request
    attempts: int
    claimed: datetime | None
    finished: datetime | None
    next_attempt: datetime | None
    remote_id: str | None
    location: str | None
    http_status: int | None
    info: str
    calendar_hash: str
    commit: str | None
    steps: Mapping[str, str]  # step name -> remote id, recorded as uploads come back


@dataclass(frozen=True)
class ClaimRequest:
    """The arguments of one `claim`, for `claim_many`."""

    key: str
    entry: str
    account: str
    scheduled: datetime
    endpoint: str
    calendar_hash: str
    commit: str | None
    force_retry: bool = False


@dataclass(frozen=True)
class Event:
    """One line of a row's history: a state change, or a step recorded while sending."""

    key: str
    account: str
    at: datetime
    from_state: State | None  # None when the row was created by this event
    to_state: State
    info: str


@dataclass(frozen=True)
class Peer:
    """A live daemon on a shared ledger, as it last announced itself."""

    host: str
    pid: int
    since: datetime
    beat: datetime
    calendar_hash: str
    commit: str | None


class Ledger(Protocol):
    """What the daemon and commands rely on; any backend must keep these claim semantics."""

    def close(self) -> None:
        """Release the database and the daemon lock."""

    def acquire_daemon_lock(self) -> None:
        """Become this ledger's daemon, held until close or death: SQLite refuses
        (LedgerError) a second one; a shared ledger registers this one among its peers."""

    def recover(self) -> list[Row]:
        """Turn rows left in `sending` by a crash into `unknown`; needs the daemon lock.
        Waits for senders inside `hold_for_sending` to finish first. A shared ledger takes
        only the rows of claimers that are certainly dead, never a live peer's."""

    def announce(self, calendar_hash: str, commit: str | None) -> None:
        """Say which calendar this daemon runs (at start and after each reload). On a shared
        ledger a daemon whose calendar is older than a live peer's claims nothing."""

    def beat(self) -> list[Row]:
        """This daemon lives; rows in `sending` whose claimer is certainly dead become
        `unknown` (returned). Called every fraction of a second; a no-op on SQLite."""

    def daemons(self) -> list[Peer]:
        """The live daemons sharing this ledger (none on SQLite: one daemon per file)."""

    def reconnect(self) -> None:
        """Open the database again after `LedgerUnavailable`; raises it while still away."""

    def reap(self, owned: Collection[tuple[str, str]]) -> list[Row]:
        """A running daemon's sweep: rows in `sending` that neither it (`owned`) nor any
        live sender holds become `unknown` (their sender died mid-request). Returns them;
        nothing when a sender is busy right now (the next sweep will see)."""

    def verify(self) -> None:
        """LedgerUntrusted if the ledger is no longer the one this process opened."""

    def hold_for_sending(self) -> AbstractContextManager[None]:
        """Held by a sender that is not the daemon (`pushcal send`) while it sends, so a
        daemon starting meanwhile does not mistake its rows for a crash's."""

    def claim(self, item: ClaimRequest) -> Row | None:
        """Atomically and durably take the row into `sending`; None if it is not claimable."""

    def claim_many(self, items: Sequence[ClaimRequest]) -> list[Row | None]:
        """`claim` for each item, in one transaction; results in the order of `items`."""

    def record_step(self, key: str, account: str, step: str, remote_id: str) -> None:
        """Durably remember an earlier step's remote id of a row in `sending`."""

    def finish(self, key: str, account: str, state: State, *, info: str = "",
               http_status: int | None = None, remote_id: str | None = None,
               location: str | None = None, next_attempt: datetime | None = None) -> Row:
        """Move a `sending` row to sent, failed, unknown, accepted or retry_wait (with
        next_attempt)."""

    def conclude(self, key: str, account: str, state: State, *, info: str,
                 remote_id: str | None = None, location: str | None = None) -> Row | None:
        """Move an `accepted` row to sent, failed or unknown (its asynchronous result);
        None, changing nothing, when the row is not `accepted` (a replayed callback)."""

    def mark(self, key: str, *, entry: str, account: str, scheduled: datetime, endpoint: str,
             state: State, info: str, calendar_hash: str = "", commit: str | None = None) -> bool:
        """Record `missed`/`cancelled` over nothing, `planned` or `retry_wait`; True if changed."""

    def resolve(self, entry: str, account: str, *, sent: bool, key: str | None = None,
                location: str | None = None) -> list[Row]:
        """A human settles `unknown` rows: to `sent` (at `location`, when known), or to
        `retry_wait` due now."""

    def load(self, rows: Sequence[Row], events: Sequence[Event]) -> None:
        """Fill an empty ledger with these rows and their history exactly (`ledger copy`),
        in one transaction; LedgerError if it already holds a delivery."""

    def get(self, key: str, account: str) -> Row | None:
        """The row, or None."""

    def rows(self, *, states: Collection[State] | None = None, entry: str | None = None,
             since: datetime | None = None, limit: int | None = None) -> list[Row]:
        """Rows filtered as asked (`since` bounds `scheduled`), by scheduled, key, account."""

    def counts(self) -> dict[State, int]:
        """How many rows are in each state (every state present, zeros included)."""

    def keys_in(self, states: Collection[State], *,
                keys: Collection[str] | None = None) -> set[tuple[str, str]]:
        """The (key, account) pairs of rows in these states; with `keys`, of those keys only
        (the daemon asks about its window, not about years of history)."""

    def last_activity(self) -> datetime | None:
        """The latest moment anything was recorded (a start looks back at least to it)."""

    def history(self, *, key: str | None = None, account: str | None = None,
                entry: str | None = None, limit: int | None = None) -> list[Event]:
        """Events in the order they happened, filtered as asked; `limit` keeps the latest."""


@runtime_checkable
class SharedRateLimit(Protocol):
    """A ledger several daemons share keeps each account's rate limit for all of them."""

    def reserve_send(self, account: str, slot: str, count: int, per: float) -> float:
        """Take the send slot named `slot` for `account` (at most `count` per `per` seconds,
        counted over every daemon): 0.0 when taken (or taken already under that name, by a
        peer firing the same occurrence), else the seconds to wait before asking again."""


def nothing_to_resolve(entry: str, account: str, key: str | None, rows: Sequence[Row]) -> str:
    """Why `resolve` found nothing to settle, listing what is recorded instead."""
    what = f"entry {entry!r} on account {account!r}" + (f" (key {key!r})" if key else "")
    if not rows:
        return f"nothing is recorded for {what}"
    listed = ", ".join(f"{row.key}: {row.state.value}" for row in rows[:10])
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f"nothing unknown to resolve for {what}; recorded: {listed}{more}"
