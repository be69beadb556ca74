"""The ledger room: what actually happened, one row per (occurrence, account).

`Ledger` is the contract every backend keeps; `SqliteLedger` is the embedded default and
`PostgresLedger` the one several daemons can share; `open_ledger` opens either from a path
or a `DatabaseUrl`. The backends load on first use, so reading a `Row` or a `State` never
imports a database driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runner.ledger.contract import (
    CALLBACK_STEP,
    CLAIMABLE,
    NEEDS_A_HUMAN,
    SETTLED,
    ClaimRequest,
    Event,
    Ledger,
    LedgerError,
    LedgerUnavailable,
    LedgerUntrusted,
    Peer,
    Row,
    SharedRateLimit,
    State,
)
from runner.ledger.location import DatabaseUrl, open_ledger

if TYPE_CHECKING:
    from runner.ledger.postgres import PostgresLedger
    from runner.ledger.sqlite import SqliteLedger

__all__ = [
    "CALLBACK_STEP", "CLAIMABLE", "NEEDS_A_HUMAN", "SETTLED", "ClaimRequest", "DatabaseUrl",
    "Event", "Ledger", "LedgerError", "LedgerUnavailable", "LedgerUntrusted", "Peer",
    "PostgresLedger", "Row", "SharedRateLimit", "SqliteLedger", "State", "open_ledger",
]

_LAZY = {"SqliteLedger": "runner.ledger.sqlite", "PostgresLedger": "runner.ledger.postgres"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'runner.ledger' has no attribute {name!r}")
