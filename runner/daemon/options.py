"""How a daemon runs: one record of every knob, so a daemon is built from one value."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from runner.daemon.signals import EarlySignals
from runner.delivery import CallbackUrls


@dataclass(frozen=True)
class DaemonOptions:
    """The daemon's settings; the defaults are what `pushcal run` uses."""

    horizon: timedelta = timedelta(hours=48)  # how far ahead occurrences become jobs
    lookback: timedelta = timedelta(days=7)  # how far back a start looks for what fell due
    until: datetime | None = None  # stop here (rehearsals); None: run until signalled
    shutdown_timeout: float = 30.0  # real seconds in-flight sends may finish at shutdown
    # real seconds an edit must settle before it is reloaded (and, where the file system
    # gives no events, between polls)
    watch_interval: float = 0.2
    heartbeat: Path | None = None
    heartbeat_every: float = 5.0  # real seconds
    # Beside the ledger: the daemon's health (failing tasks) for `status --check`.
    health: Path | None = None
    sweep_every: float = 1.0  # real seconds between looks for rows nobody will finish
    signals: EarlySignals | None = None  # what arrived before the loop ran (`pushcal run`)
    # Real seconds between beats on the ledger; on a shared one, a beat also reaps the
    # claims of peers that died, so it bounds how long their rows stay `sending`.
    beat_every: float = 0.5
    rng: random.Random = field(default_factory=random.Random)  # retry jitter
    # Where async uploads' results are posted: the calendar's callback_url, else this base.
    callbacks: CallbackUrls = field(default_factory=CallbackUrls)
