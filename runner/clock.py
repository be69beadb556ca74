"""Time as the daemon sees it: real, or virtual for rehearsals and tests.

Everything that asks "what time is it" takes a clock; nothing reads the system time
directly. A virtual clock runs `speed` times faster than the real one from a chosen start,
and can say when (in real time) a virtual moment arrives, which is all a real-time
scheduler needs in order to play a calendar on virtual time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


def utc_text(moment: datetime) -> str:
    """`2026-12-01T08:00:00.000Z`: UTC to the millisecond, as every output writes a moment."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def system_now() -> datetime:
    """The real time, aware, in UTC."""
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def real(self, moment: datetime) -> datetime:
        """The real UTC time at which this clock shows `moment`."""
        ...

    def real_seconds(self, seconds: float) -> float:
        """Real seconds that pass while this clock advances `seconds`."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return system_now()

    def real(self, moment: datetime) -> datetime:
        return moment

    def real_seconds(self, seconds: float) -> float:
        return seconds


@dataclass
class ScaledClock:
    """Virtual time: starts at `start` and runs `speed` times faster than `source`."""

    start: datetime
    speed: float
    source: Callable[[], datetime] = system_now
    origin: datetime = field(init=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        self.origin = self.source()

    def now(self) -> datetime:
        return self.start + (self.source() - self.origin) * self.speed

    def real(self, moment: datetime) -> datetime:
        return self.origin + (moment - self.start) / self.speed

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.speed
