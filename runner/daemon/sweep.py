"""The daemon's look at the ledger every second: is it still ours, and is anything stuck?

Three things change the ledger without the daemon knowing: its files being deleted or
replaced (the sweep's `verify` raises `LedgerUntrusted`, and the supervisor stops the
daemon), a `pushcal send` killed mid-request (its rows stay `sending` with no live owner:
they become `unknown` and are reported, as a restart's recovery would do), and a human's
`resolve --not-sent` (a `retry_wait` row with no retry job yet: it gets one now).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.ledger import State

if TYPE_CHECKING:
    from runner.daemon.service import Daemon


class Sweep:
    """What the daemon checks in the ledger on every tick of its `sweep` job."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    async def run(self) -> None:
        """One look; raises what the ledger raises (the supervisor reports it)."""
        daemon = self.daemon
        daemon.ledger.verify()
        for row in daemon.ledger.reap(set(daemon.workers.owned)):
            daemon.report("orphaned", row)
        for row in daemon.ledger.rows(states=[State.RETRY_WAIT]):
            if not daemon.retry_scheduled(row.key, row.account):
                daemon.schedule_retry(row)
