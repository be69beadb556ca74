"""What the ledger tests share: a virtual clock, each backend behind one fixture, and helpers
that bring a row into any state through the public interface only.

`backend` is parametrized over SQLite (a file under tmp_path) and PostgreSQL (a fresh
database on the server `pg_server` starts); `Backend.open` opens one more instance of the
same ledger, as a second process would.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runner.ledger import ClaimRequest, Ledger, Row, State
from runner.ledger.location import StateLocation, open_ledger, parse

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ENDPOINT = "facebook/page/post"
# Every state a row can be in: `planned` is what the calendar implies, never a stored row.
RECORDED = frozenset(State) - {State.PLANNED}


class Clock:
    """Virtual time: starts at T0, moves only when told."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def claim(ledger: Ledger, key: str = "launch", account: str = "acme-page", **extra: Any) -> Row | None:
    fields: dict[str, Any] = {"entry": key.split("@")[0], "account": account, "scheduled": DUE,
                              "endpoint": ENDPOINT, "calendar_hash": "h1", "commit": "abc123"}
    return ledger.claim(ClaimRequest(key, **(fields | extra)))


def mark(ledger: Ledger, state: State, key: str = "launch", account: str = "acme-page") -> bool:
    return ledger.mark(key, entry=key.split("@")[0], account=account, scheduled=DUE,
                       endpoint=ENDPOINT, state=state, info=f"{state.value} by policy")


def put(ledger: Ledger, state: State, key: str = "launch", account: str = "acme-page") -> Row:
    """Bring a fresh row into `state` through the public interface only."""
    if state in (State.MISSED, State.CANCELLED):
        assert mark(ledger, state, key, account)
    else:
        assert claim(ledger, key, account) is not None
        if state is not State.SENDING:
            later = T0 + timedelta(minutes=5) if state is State.RETRY_WAIT else None
            ledger.finish(key, account, state, info=f"went {state.value}", next_attempt=later)
    row = ledger.get(key, account)
    assert row is not None and row.state is state
    return row




@dataclass(frozen=True)
class Backend:
    """One ledger store; `open` gives one more instance of it (another process's view)."""

    name: str
    where: StateLocation

    def open(self, clock: Any = lambda: T0) -> Ledger:
        opened = open_ledger(self.where, clock)
        assert opened is not None
        return opened


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Backend:
    if request.param == "postgres":
        return Backend("postgres", parse(request.getfixturevalue("pg_url")))
    return Backend("sqlite", tmp_path / "state" / "ledger.sqlite")


@pytest.fixture
def ledger(backend: Backend, clock: Clock) -> Iterator[Ledger]:
    with closing(backend.open(clock)) as opened:
        yield opened
