"""Fault injection for the sandbox: what can go wrong, how often, and which way it goes.

A fault replaces the normal answer to a push request. HTTP-code faults answer with that code
and create nothing; the connection faults reproduce what a client cannot tell apart from
OneAll being unreachable (`drop`), or from OneAll posting but never answering (`timeout`,
`reset-after`): the cases the delivery semantics in docs/design.md are built around.

`refuse` is the one fault a client can prove harmless, and the one that cannot hit the
request that rolls it: that request already has a connection. So it is answered normally
(with `Connection: close`), and then the port itself closes for `refuse_s` seconds: every
new connection in that window is refused (ECONNREFUSED), before any byte is sent. Clients
holding keep-alive connections would go on using them, so `keep_alive=False` makes every
answer close its connection, and every request need a new one.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


class Named(enum.Enum):
    """The faults that are not an HTTP status code."""

    DROP = "drop"  # close without reading or answering: nothing created
    TIMEOUT = "timeout"  # create, hold the answer `hang_s`, then close without answering
    RESET_AFTER = "reset-after"  # create, then reset the connection without answering
    REFUSE = "refuse"  # answer normally, then refuse new connections for `refuse_s`


# The named faults that end the exchange without an answer.
SWALLOWING = frozenset({Named.DROP.value, Named.TIMEOUT.value, Named.RESET_AFTER.value})


RETRY_AFTER_CODES = frozenset({"429", "503"})  # OneAll's "come back later" answers


@dataclass(frozen=True)
class Faults:
    """How the sandbox misbehaves: latency for every push request, and random faults."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    fail_codes: tuple[str, ...] = ("503",)
    hang_s: float = 35.0
    seed: int | None = None
    refuse_s: float = 1.0  # how long the port stays closed after a `refuse`
    keep_alive: bool = True  # False: every answer closes its connection

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.hang_s < 0 or self.refuse_s < 0:
            raise ValueError("latency_ms, hang_s and refuse_s must not be negative")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, got {self.fail_rate}")
        if not self.fail_codes:
            raise ValueError("fail_codes must name at least one fault")
        for code in self.fail_codes:
            if not _is_http_fault(code) and code not in {n.value for n in Named}:
                known = ", ".join(n.value for n in Named)
                raise ValueError(f"unknown fault {code!r}: use an HTTP code 400-599 or {known}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, the shape `POST /_sandbox/faults` takes."""
        return {**asdict(self), "fail_codes": list(self.fail_codes)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """Faults from JSON; absent keys keep their defaults, unknown keys are refused."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        values = dict(data)
        if "fail_codes" in values:
            codes = values["fail_codes"]
            if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
                raise ValueError("fail_codes must be a list of strings")
            values["fail_codes"] = tuple(codes)
        return cls(**values)


def _is_http_fault(code: str) -> bool:
    return code.isdigit() and 400 <= int(code) <= 599


class FaultDice:
    """Draws faults; one per sandbox, guarded by the caller's lock (Random is not thread-safe)."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def roll(self) -> str | None:
        """The fault for the next push request, or None to process it normally."""
        if self.faults.fail_rate <= 0.0 or self._rng.random() >= self.faults.fail_rate:
            return None
        return self._rng.choice(self.faults.fail_codes)


def http_status(fault: str) -> int | None:
    """The HTTP status a fault answers with, or None for the connection faults."""
    return int(fault) if _is_http_fault(fault) else None
