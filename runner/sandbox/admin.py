"""The sandbox's own introspection API, for tests and tools running in another process.

`GET /_sandbox/received` lists every push request received, `POST /_sandbox/reset` forgets
them (and every created object), `GET`/`POST /_sandbox/faults` read and replace the fault
settings. These answers are plain JSON, not OneAll envelopes, and need no credentials: the
sandbox listens on loopback only.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from runner.sandbox.faults import Faults
from runner.sandbox.world import World

_ROUTES = ("/_sandbox/received", "/_sandbox/reset", "/_sandbox/faults")


def administer(world: World, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    """(HTTP status, JSON document) for one introspection request."""
    route = (method, path)
    if route == ("GET", "/_sandbox/received"):
        return 200, [dataclasses.asdict(r) for r in world.received()]
    if route == ("POST", "/_sandbox/reset"):
        world.reset()
        return 200, {"reset": True}
    if route == ("GET", "/_sandbox/faults"):
        return 200, world.faults.to_json()
    if route == ("POST", "/_sandbox/faults"):
        return _set_faults(world, raw)
    if path in _ROUTES:
        return 405, {"error": f"{method} is not allowed on {path}"}
    return 404, {"error": f"unknown sandbox route {path}; known: {', '.join(_ROUTES)}"}


def _set_faults(world: World, raw: bytes) -> tuple[int, Any]:
    try:
        data = json.loads(raw or b"{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object of fault settings")
        faults = Faults.from_json(data)
    except (ValueError, TypeError) as exc:
        return 400, {"error": str(exc)}
    world.set_faults(faults)
    return 200, faults.to_json()
