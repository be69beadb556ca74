"""Signals are handled from the first instant of `pushcal run`, not only once the loop runs.

Before the event loop exists (validating the calendar, opening the ledger, recovering), a
SIGHUP's default action would kill the process, and a SIGTERM would kill it without the
orderly stop. `EarlySignals` catches them into flags at once; the daemon takes over with
its loop handlers as its first act and then honours what arrived meanwhile.
"""

from __future__ import annotations

import signal
from types import FrameType


class EarlySignals:
    """What arrived before the daemon could act on it: a stop, a reload, or both."""

    def __init__(self) -> None:
        self.stop = False
        self.reload = False
        self.stopped_by: str | None = None  # SIGINT or SIGTERM: Ctrl-C exits 130

    def install(self) -> EarlySignals:
        """Catch SIGHUP, SIGTERM and SIGINT into flags from now on."""
        signal.signal(signal.SIGHUP, self._hup)
        signal.signal(signal.SIGTERM, self._term)
        signal.signal(signal.SIGINT, self._term)
        return self

    def _hup(self, signum: int, frame: FrameType | None) -> None:
        self.reload = True

    def _term(self, signum: int, frame: FrameType | None) -> None:
        self.stop = True
        self.stopped_by = signal.Signals(signum).name
