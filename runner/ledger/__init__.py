"""The ledger room: what actually happened, one row per (occurrence, account).

`Ledger` is the contract every backend keeps; `SqliteLedger` is the embedded default. The
backends load on first use, so reading a `Row` or a `State` never imports a database driver.
The only user of sqlite3.
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
    LedgerUntrusted,
    Row,
    State,
)

if TYPE_CHECKING:
    from runner.ledger.sqlite import SqliteLedger

__all__ = [
    "CALLBACK_STEP", "CLAIMABLE", "NEEDS_A_HUMAN", "SETTLED", "ClaimRequest", "Event", "Ledger",
    "LedgerError", "LedgerUntrusted", "Row", "SqliteLedger", "State",
]

_LAZY = {"SqliteLedger": "runner.ledger.sqlite"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'runner.ledger' has no attribute {name!r}")
