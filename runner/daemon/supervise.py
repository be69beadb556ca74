"""No background task dies silently: each one runs under a supervisor that says so.

The daemon's background work (the horizon roll, the watcher, the heartbeat, the ledger
sweep, the account workers, reloads, firings) runs as scheduler jobs and asyncio tasks,
where an exception would otherwise end up in a library log or nowhere, and the daemon would
go on looking healthy while it schedules nothing. Under `Supervisor`, an exception is an
`error` event naming the task, the task is kept (a periodic job runs again, a long-lived
task is restarted), and until it next succeeds it is listed in `failing`, which the
heartbeat carries and `status --check` and the health check fail on.

A ledger that cannot be trusted (`LedgerUntrusted`) is different: nothing more may be sent
through it, so the supervisor stops the daemon, which then exits 1 with the ledger's message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from runner.daemon.events import EventLog
from runner.errors import PushcalError
from runner.ledger import LedgerUntrusted

Job = Callable[..., Awaitable[Any]]


class Supervisor:
    """Keeps the record of which tasks are failing, and the fatal error, if any."""

    def __init__(self, log: EventLog, stop: Callable[[], None]) -> None:
        self._log, self._stop = log, stop
        self.failing: dict[str, str] = {}  # task -> its last error, until it succeeds again
        self.fatal: PushcalError | None = None

    def job(self, name: str, work: Job) -> Job:
        """`work` as a job that reports its exceptions instead of raising them."""
        async def supervised(*args: Any) -> None:
            try:
                await work(*args)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # reported, and the task is kept
                self.failed(name, error)
            else:
                self.ok(name)
        return supervised

    def failed(self, name: str, error: BaseException) -> None:
        """Report that `name` failed; a ledger that cannot be trusted stops the daemon."""
        if isinstance(error, LedgerUntrusted):
            self.die(error)
            return
        first = name not in self.failing
        self.failing[name] = f"{type(error).__name__}: {error}"[:300]
        # Logged each time it fails anew, not on every repeat: a failing roll every few
        # seconds must not bury the rest of the log.
        if first:
            self._log("error", task=name, error=self.failing[name],
                      kept="running; the health check fails until it succeeds")

    def ok(self, name: str) -> None:
        """`name` succeeded: it is no longer failing."""
        if self.failing.pop(name, None) is not None:
            self._log("recovered-task", task=name)

    def die(self, error: PushcalError) -> None:
        """Stop the daemon because of `error`; `pushcal run` exits 1 with its message."""
        if self.fatal is None:
            self.fatal = error
            self._log("fatal", error=str(error))
        self._stop()

    async def forever(self, name: str, work: Callable[[], Awaitable[None]],
                      pause: float) -> None:
        """Run a long-lived task until it returns; when it ends by an exception, report it
        and start it again after `pause` real seconds."""
        while True:
            try:
                await work()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # reported, and the task restarted
                self.failed(name, error)
            await asyncio.sleep(pause)
