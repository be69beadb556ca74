"""The OneAll room: the endpoint table, wire records, rendering, credentials, the client.

This face stays light: the table and the wire records load at once (the sandbox needs only
them), while `render` (which needs the calendar) and `Client` (httpx) load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runner.oneall.endpoints import ENDPOINTS, Endpoint
from runner.oneall.wire import Ref, Reply, Request, Verdict

if TYPE_CHECKING:
    from runner.oneall.client import Client
    from runner.oneall.credentials import Credentials, CredentialsError
    from runner.oneall.render import render

__all__ = [
    "ENDPOINTS",
    "Client",
    "Credentials",
    "CredentialsError",
    "Endpoint",
    "Ref",
    "Reply",
    "Request",
    "Verdict",
    "render",
]

_LAZY = {"Client": "runner.oneall.client", "Credentials": "runner.oneall.credentials",
         "CredentialsError": "runner.oneall.credentials", "render": "runner.oneall.render"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'runner.oneall' has no attribute {name!r}")
