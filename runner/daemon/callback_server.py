"""`pushcal run --callback-listen HOST:PORT`: the HTTP receiver for OneAll's async results.

A small threaded `http.server` on its own threads, so a slow or hostile caller never touches
the event loop; each POST is judged by `Results.callback` (which reads and writes the
thread-safe ledger). Bodies over 1 MiB are refused unread. Alongside, a sweep thread ends
the waits that ran past the timeout, whether or not a receiver listens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from runner.daemon.events import EventLog
from runner.daemon.results import Results

MAX_BODY = 1 << 20


def serve(results: Results, host: str, port: int) -> tuple[Callable[[], None], int]:
    """Listen for callbacks; returns how to stop and the port bound."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "pushcal"

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            if size > MAX_BODY:
                self._answer(413, "too large")
                return
            verdict = results.callback(urlsplit(self.path).query, self.rfile.read(size))
            self._answer(verdict.status, verdict.text)

        def _answer(self, status: int, text: str) -> None:
            body = (text + "\n").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # `Results` logs what matters; a URL here would print the token

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="pushcal-callbacks", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop, int(server.server_address[1])


def sweeping(results: Results, every: float, log: EventLog) -> Callable[[], None]:
    """Run `results.sweep` every `every` seconds in a thread; returns how to stop it."""
    stopping = threading.Event()

    def run() -> None:
        while not stopping.wait(every):
            try:
                results.sweep()
            except Exception as error:  # the ledger may be away: say so, try again later
                log("sweep-failed", error=repr(error))

    thread = threading.Thread(target=run, name="pushcal-sweep", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(5)

    return stop
