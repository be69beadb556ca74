"""The OneAll response envelope, as the sandbox writes it, and the refusal that fills it.

Every answer from the sandbox, success or error, has OneAll's shape (oneall-push-api.md):
`response.request.{date, resource, status{flag, code, info}}`, plus `response.result.data`
on success only. Anything in the sandbox that refuses a request raises `Refused`; the HTTP
layer turns it into an error envelope.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any


class Refused(Exception):
    """A request the sandbox answers with an error envelope: HTTP `status` and OneAll `info`."""

    def __init__(self, status: int, info: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(info)
        self.status = status
        self.info = info
        self.headers = dict(headers or {})


def http_date(timestamp: float) -> str:
    """`Thu, 21 Sep 2017 13:56:59 +0000`, the form of OneAll's `request.date`."""
    return format_datetime(datetime.fromtimestamp(timestamp, UTC))


def envelope(
    *, resource: str, code: int, info: str, now: float, data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The full OneAll answer; `data` given means success, absent means error (no result)."""
    flag = "success" if data is not None else "error"
    request = {"date": http_date(now), "resource": resource,
               "status": {"flag": flag, "code": code, "info": info}}
    response: dict[str, Any] = {"request": request}
    if data is not None:
        response["result"] = {"data": dict(data)}
    return {"response": response}


def encode(document: Any) -> bytes:
    """JSON bytes for the wire."""
    return json.dumps(document, ensure_ascii=False).encode("utf-8")

