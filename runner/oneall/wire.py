"""What crosses the wire: requests to OneAll, placeholders for ids, and classified replies.

Three words, three things: a `Reply` is what came back for one request (or what went
wrong on the way); its `Verdict` is what that reply means for delivery; the ledger's
`State` (runner.ledger) is where an (occurrence, account) stands after all its requests.
These records are shared by `render` (which makes requests), `client` (which sends them
and classifies the reply) and delivery; none of them knows calendars or HTTP libraries.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Verdict(enum.Enum):
    """What a reply (or the lack of one) means for delivery, per docs/design.md."""

    SENT = "sent"  # 2xx: OneAll accepted it
    RETRY = "retry"  # provably not acted on: connection failure, 429, 503
    FAILED = "failed"  # a permanent refusal: 400, 401, 403, 404, 409
    UNKNOWN = "unknown"  # may have been acted on: timeouts, dropped connections, 500, 502, 504


@dataclass(frozen=True)
class Ref:
    """A placeholder for an id known only at send time: `field` of the result of `step`."""

    step: str
    field: str

    def __str__(self) -> str:
        return f"<{self.field} from {self.step}>"


@dataclass(frozen=True)
class Request:
    """One HTTP request of a rendered occurrence, in sending order.

    `step` names it within its occurrence ("upload launch-photo", "publish"); `endpoint`
    is the provider table's key for it; `body` is JSON-ready except for `Ref` values,
    which are filled with earlier steps' results just before sending.
    """

    step: str
    endpoint: str
    method: str
    path: str
    body: Mapping[str, Any]
    result_field: str
    asynchronous: bool = False


@dataclass(frozen=True)
class Reply:
    """OneAll's reply to one request, classified (or the network's, when OneAll never answered)."""

    verdict: Verdict
    status: int | None  # HTTP status; None when no response arrived
    info: str  # OneAll's `status.info`, or what went wrong on the way
    data: Mapping[str, str] = field(default_factory=dict)  # `result.data`, values as strings
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
