"""The sandbox room: a loopback OneAll emulator for rehearsals, tests and benchmarks.

A pure request-to-answer core (`push`, `pull`, `check`, `routes`, `world`, `envelope`,
`faults`, `admin`) under a socket layer (`http_server`, `outage`, `callback`, `emulator`).
Reads the endpoint table and nothing else of pushcal: no httpx, no calendar.
"""

from runner.sandbox.emulator import (
    SANDBOX_PRIVATE_KEY,
    SANDBOX_PUBLIC_KEY,
    Sandbox,
    serve_forever,
)
from runner.sandbox.faults import Faults
from runner.sandbox.world import Received, World

__all__ = ["SANDBOX_PRIVATE_KEY", "SANDBOX_PUBLIC_KEY", "Faults", "Received", "Sandbox", "World",
           "serve_forever"]
