"""The ledger room: what actually happened, one row per (occurrence, account).

`Ledger` is the contract every backend keeps; `SqliteLedger` is the embedded default.
The only user of sqlite3.
"""

from runner.ledger.contract import (
    CLAIMABLE,
    NEEDS_A_HUMAN,
    SETTLED,
    ClaimRequest,
    Event,
    Ledger,
    LedgerError,
    Row,
    State,
)
from runner.ledger.sqlite import SqliteLedger

__all__ = [
    "CLAIMABLE", "NEEDS_A_HUMAN", "SETTLED", "ClaimRequest", "Event", "Ledger", "LedgerError",
    "Row", "SqliteLedger", "State",
]
