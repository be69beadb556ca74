"""The daemon's pulse on its ledger: beat, reap dead peers' claims, survive the database.

Every `every` real seconds the daemon tells the ledger it lives (`Ledger.beat`), which also
turns into `unknown` the `sending` rows of claimers whose database session is gone (a peer
SIGKILLed, a machine lost), and it adopts `retry_wait` rows, which a dead peer may have left
to nobody. On SQLite a beat does nothing: there is one daemon per file.

When the database goes away (`LedgerUnavailable`: a server restart, a network cut), every
claim fails, so nothing is sent; this loop logs `ledger-lost`, reconnects with exponential
backoff (logging each attempt), logs `ledger-back` and asks the daemon to resume, which
looks again for what fell due meanwhile: the lateness policy decides what is still sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from runner.daemon.events import EventLog
from runner.ledger import Ledger, LedgerUnavailable, Row

FIRST_DELAY = 0.1  # real seconds before the first reconnection attempt
MAX_DELAY = 5.0


class Liveness:
    """The loop; `on_reaped` gets the rows made `unknown`, `on_back` runs after a reconnect,
    `on_tick` after every good beat (to adopt retries)."""

    def __init__(self, ledger: Ledger, log: EventLog, *, every: float,
                 on_reaped: Callable[[Row], None], on_back: Callable[[], None],
                 on_tick: Callable[[], None]) -> None:
        self.ledger, self.log, self.every = ledger, log, every
        self.on_reaped, self.on_back, self.on_tick = on_reaped, on_back, on_tick
        self.lost = False

    async def run(self) -> None:
        """Beat until cancelled."""
        while True:
            try:
                for row in await asyncio.to_thread(self.ledger.beat):
                    self.on_reaped(row)
                self.on_tick()
            except LedgerUnavailable as error:
                await self.regain(str(error))
            await asyncio.sleep(self.every)

    async def regain(self, why: str) -> None:
        """Reconnect with backoff until the database answers again, then resume."""
        self.lost = True
        self.log("ledger-lost", error=why, doing="not claiming; reconnecting")
        delay, attempt = FIRST_DELAY, 0
        while True:
            attempt += 1
            await asyncio.sleep(delay)
            try:
                await asyncio.to_thread(self.ledger.reconnect)
            except LedgerUnavailable as error:
                self.log("ledger-reconnect-failed", attempt=attempt, error=str(error),
                         next_in=round(min(delay * 2, MAX_DELAY), 2))
                delay = min(delay * 2, MAX_DELAY)
                continue
            self.lost = False
            self.log("ledger-back", attempts=attempt)
            try:
                self.on_back()
            except LedgerUnavailable as error:  # gone again already: the next beat retries
                self.log("ledger-lost", error=str(error), doing="resuming failed")
            return
