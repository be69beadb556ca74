"""Claims made in the same turn of the event loop go to the ledger as one transaction.

When many occurrences fall due at one instant, every account's worker reaches its claim in
the same loop turn; claiming each in its own transaction would cost one fsync apiece, on the
event loop, before the next account's request could start (5,000 accounts: seconds). Here a
claim waits at most until the end of the current turn, and everything waiting is claimed
with one `claim_many` (one fsync).

Only a worker about to send right away claims (after its account's queue and rate limit), so
a batch never holds a row in `sending` that is not on its way: a crash then leaves `unknown`
only what was really about to go out.
"""

from __future__ import annotations

import asyncio
import contextlib

from runner.ledger.contract import ClaimRequest, Ledger, Row, State

_NOT_SENT = "not sent: stopped between its claim and its request; it goes out on the next try"


class ClaimBatcher:
    """`await claim(item)`: the row claimed (or None), batched with this turn's other claims."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._waiting: list[tuple[ClaimRequest, asyncio.Future[Row | None]]] = []
        self.batches = 0  # how many transactions were made (for tests and the curious)

    async def claim(self, item: ClaimRequest) -> Row | None:
        """Claim `item` together with every claim made in this loop turn."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Row | None] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._flush)
        self._waiting.append((item, future))
        try:
            return await future
        except asyncio.CancelledError:
            self._release(future)
            raise

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        live = [(item, future) for item, future in batch if not future.cancelled()]
        if not live:
            return
        self.batches += 1
        try:
            rows = self._ledger.claim_many([item for item, _ in live])
        except Exception as error:  # each claimer reports it, as a lone claim would
            for _, future in live:
                future.set_exception(error)
            return
        for (_, future), row in zip(live, rows, strict=True):
            future.set_result(row)

    def _release(self, future: asyncio.Future[Row | None]) -> None:
        """Cancelled after the batch claimed its row but before it could send: nothing went
        out, so the row waits for a retry rather than becoming `unknown`."""
        if not future.done() or future.cancelled() or future.exception() is not None:
            return
        row = future.result()
        if row is not None:
            with contextlib.suppress(Exception):  # shutting down: recovery settles the rest
                self._ledger.finish(row.key, row.account, State.RETRY_WAIT, info=_NOT_SENT,
                                    next_attempt=row.claimed or row.scheduled)
