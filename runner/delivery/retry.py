"""The retry policy: how long to wait before the next attempt, and when to stop trying.

Only answers that provably did not reach OneAll are retried (connection failures, 429, 503);
retries are late sends, so they end with the occurrence's lateness allowance.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from runner.calendar import Occurrence

FIRST_BACKOFF = 5.0  # seconds
MAX_BACKOFF = 600.0
MIN_RETRY_WINDOW = timedelta(minutes=10)


def backoff(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential with jitter, never less
    than OneAll's Retry-After."""
    ceiling = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempts - 1))
    delay = rng.uniform(ceiling / 2, ceiling)
    return min(max(delay, retry_after or 0.0), 86400.0)  # a day at most, whoever asked


def retry_deadline(occ: Occurrence, grace: timedelta) -> datetime:
    """Retries are late sends: they stop when the lateness allowance (at least 10 min) ends."""
    return occ.due + max(grace, MIN_RETRY_WINDOW)
