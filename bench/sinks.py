"""Loopback webhook receivers for the benchmarks: one that collects (and checks the HMAC
signature of) every alert posted, and one that hangs on every request.

    with AlertSink(secret=b"...") as sink: ... sink.url, sink.alerts(), sink.bodies
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class AlertSink:
    """Collects webhook posts on 127.0.0.1; `hang` seconds makes it a webhook that hangs."""

    def __init__(self, secret: bytes | None = None, hang: float = 0.0) -> None:
        self.secret, self.hang = secret, hang
        self.bodies: list[bytes] = []
        self.bad_signatures = 0
        self._released = threading.Event()
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink._take(body, self.headers.get("X-Pushcal-Timestamp", ""),
                           self.headers.get("X-Pushcal-Signature", ""))
                if sink.hang:
                    sink._released.wait(sink.hang)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _take(self, body: bytes, stamp: str, signature: str) -> None:
        with self._lock:
            self.bodies.append(body)
            if self.secret is not None:
                expected = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256)
                if not hmac.compare_digest(signature, "sha256=" + expected.hexdigest()):
                    self.bad_signatures += 1

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of every generic JSON message received."""
        with self._lock:
            return [a for body in self.bodies for a in json.loads(body).get("alerts", [])]

    def __enter__(self) -> AlertSink:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
