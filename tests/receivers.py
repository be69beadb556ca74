"""A real loopback HTTP server that collects what is posted to it: alerts, pings, callbacks.

`Receiver` answers each request with the next status of its `script` (then `status`), or
holds the answer for `hang` seconds (a webhook that hangs), and keeps every request it got.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Got:
    """One request as received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """The collected requests and how to answer the next ones."""

    def __init__(self, status: int = 200, script: tuple[int, ...] = (), hang: float = 0.0) -> None:
        self.status, self.script, self.hang = status, list(script), hang
        self.got: list[Got] = []
        self.lock = threading.Lock()
        self.released = threading.Event()  # set to end every hang at once
        self.url = ""

    def answer(self, got: Got) -> int:
        with self.lock:
            self.got.append(got)
            status = self.script.pop(0) if self.script else self.status
        if self.hang:
            self.released.wait(self.hang)
        return status

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Got]:
        """The requests once there are `count` of them (or all there are after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.got) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.got)


@contextmanager
def receiving(status: int = 200, script: tuple[int, ...] = (), hang: float = 0.0) -> Iterator[Receiver]:
    """A `Receiver` listening on a free loopback port for the duration."""
    receiver = Receiver(status, script, hang)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._collect()

        def do_GET(self) -> None:
            self._collect()

        def _collect(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size) if size else b""
            got = Got(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            status = receiver.answer(got)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up waiting: that is what a hang is for

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
