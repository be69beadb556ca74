"""Time as the daemon sees it: real, or virtual for rehearsals and tests.

Everything that asks "what time is it" takes a clock; nothing reads the system time
directly. A virtual clock runs `speed` times faster than the real one from a chosen start,
and can say when (in real time) a virtual moment arrives, which is all a real-time
scheduler needs in order to play a calendar on virtual time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utc_text(moment: datetime) -> str:
    """`2026-12-01T08:00:00.000Z`: UTC to the millisecond, as every output writes a moment."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration_text(span: timedelta) -> str:
    """`2h`, `15m`, `1h30m`, `90s`, `250ms`: a duration as a calendar writes one."""
    millis = round(span.total_seconds() * 1000)
    if millis == 0:
        return "0s"
    sign, millis = ("-", -millis) if millis < 0 else ("", millis)
    if millis % 1000:
        return f"{sign}{millis}ms" if millis < 60_000 else f"{sign}{millis / 1000:g}s"
    seconds = millis // 1000
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + "".join(parts)


def local_text(moment: datetime) -> str:
    """`2026-12-01 09:00:00 CET (+01:00)`: the wall time people wrote, with its zone."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {moment.tzname()} ({offset[:3]}:{offset[3:]})"


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
