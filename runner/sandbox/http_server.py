"""The sandbox's HTTP server: keep-alive threads, authentication, faults, and dispatch.

`http.server` with HTTP/1.1 keep-alive, one daemon thread per connection and a deep listen
queue, so a hundred clients can hold connections open at once. Push requests get latency and
faults here, around `sandbox_push`; pull listings and the `/_sandbox/` introspection routes
(unauthenticated: the server only ever listens on loopback) are answered here too.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from runner.sandbox.admin import administer
from runner.sandbox.envelope import Refused, encode, envelope
from runner.sandbox.faults import RETRY_AFTER_CODES, SWALLOWING, Faults, Named, http_status
from runner.sandbox.outage import Outage
from runner.sandbox.pull import listing_data, match_pull
from runner.sandbox.push import Answer, PushContext, answer_push, describe, refused
from runner.sandbox.world import Received

MAX_BODY = 10 * 1024 * 1024  # media go by URL, so a real body is small
_FAULT_INFO = {429: "Too many requests, slow down", 503: "The API is overloaded, retry later"}


@dataclass(frozen=True)
class Context(PushContext):
    """Everything a request handler needs; one per running server."""

    public_key: str = ""
    private_key: str = ""
    listener: Callable[[Received], None] | None = None


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server that can cut every open connection when it stops."""

    daemon_threads = True
    # The default 5 drops SYNs when 100 clients connect at once; a burst over 5,000 accounts
    # connects 5,000 at once (the kernel caps it at net.core.somaxconn).
    request_queue_size = 8192
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily,
                 context: Context) -> None:
        self.address_family = family
        self.context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.outage = Outage(context.stopping, self.request_queue_size)
        super().__init__(address, SandboxHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's FQDN; loopback needs no name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def service_actions(self) -> None:
        # Called by serve_forever between accepts: the only safe moment to stop listening.
        self.outage.carry_out(self.socket)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open connection (idle keep-alives and hung `timeout` faults alike)."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client went away mid-answer: normal under fault injection
        super().handle_error(request, client_address)


class _BadFraming(Exception):
    """A body the server cannot read safely; the connection is closed after the answer."""

    def __init__(self, status: int, info: str) -> None:
        super().__init__(info)
        self.refusal = Refused(status, info)


class SandboxHandler(BaseHTTPRequestHandler):
    """One connection; `handle` loops over its keep-alive requests."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    timeout = 300.0  # an idle keep-alive connection gives its thread back after this
    server: SandboxServer

    def version_string(self) -> str:
        return "OneAllSandbox/1.0"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are reported through the sandbox's listener, never with headers

    @property
    def _ctx(self) -> Context:
        return self.server.context

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/push/"):
            self._push(path)
        elif path.startswith("/_sandbox/"):
            self._introspect(path)
        else:
            self._pull(path)

    # push ---------------------------------------------------------------------------------

    def _push(self, path: str) -> None:
        seq, faults = self._ctx.world.next_seq(), self._ctx.world.faults
        fault = self._ctx.world.roll_fault()
        if fault == Named.DROP.value:
            self.close_connection = True
            self._record(seq, time.time(), path, b"", Answer(0, {}), fault)
            return
        try:
            raw = self._read_body()
        except _BadFraming as bad:
            answer = refused(self._ctx.clock, path, bad.refusal)
            self._record(seq, time.time(), path, b"", answer)
            self._reply(answer, close=True)
            return
        at = time.time()
        self._ctx.stopping.wait(faults.latency_ms / 1000.0)
        answer = self._push_answer(seq, path, raw, fault)
        self._record(seq, at, path, raw, answer, fault)
        if fault in (Named.TIMEOUT.value, Named.RESET_AFTER.value):
            self._vanish(fault, faults)
            return
        refuse = fault == Named.REFUSE.value
        if refuse:
            self.server.outage.request(faults.refuse_s)
        self._reply(answer, close=refuse)

    def _push_answer(self, seq: int, path: str, raw: bytes, fault: str | None) -> Answer:
        status = http_status(fault) if fault else None
        if status is not None:
            headers = {"Retry-After": "1"} if fault in RETRY_AFTER_CODES else {}
            info = _FAULT_INFO.get(status, f"Sandbox fault injection: HTTP {status}")
            return refused(self._ctx.clock, path, Refused(status, info, headers))
        try:
            self._authenticate()
        except Refused as refusal:
            return refused(self._ctx.clock, path, refusal)
        if self.command != "POST":
            return refused(self._ctx.clock, path, _method_not_allowed("POST"))
        return answer_push(self._ctx, seq, path, self.headers.get("Content-Type"), raw)

    def _vanish(self, fault: str, faults: Faults) -> None:
        """End the exchange without an answer: after `hang_s` (timeout) or at once, reset."""
        self.close_connection = True
        if fault == Named.TIMEOUT.value:
            self._ctx.stopping.wait(faults.hang_s)
        else:  # a zero linger turns the close into a TCP reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))

    def _record(self, seq: int, at: float, path: str, raw: bytes, answer: Answer,
                fault: str | None = None) -> None:
        endpoint, identity, body = describe(path, raw)
        swallowed = fault in SWALLOWING
        received = Received(seq, at, self.command, path, endpoint, identity, body,
                            0 if swallowed else answer.status, fault, answer.created,
                            answer.duplicate_of, answer.callback)
        self._ctx.world.record(received)
        if self._ctx.listener is not None:
            self._ctx.listener(received)

    # pull and introspection ---------------------------------------------------------------

    def _pull(self, path: str) -> None:
        try:
            self._read_body()
            if not path.startswith("/pull/"):
                raise Refused(404, f"unknown resource {path}")
            self._authenticate()
            listing, route = match_pull(path)
            if self.command != "GET":
                raise _method_not_allowed("GET")
            self._ctx.world.bind(route.identity, listing.provider)
        except _BadFraming as bad:
            self._reply(refused(self._ctx.clock, path, bad.refusal), close=True)
            return
        except Refused as refusal:
            self._reply(refused(self._ctx.clock, path, refusal))
            return
        data = listing_data(listing, route, self._ctx.world.objects(route.identity))
        info = f"{len(data[listing.name]['entries'])} {listing.name} found"
        document = envelope(resource=path, code=200, info=info, now=self._ctx.clock(), data=data)
        self._reply(Answer(200, document))

    def _introspect(self, path: str) -> None:
        try:
            raw = self._read_body()
        except _BadFraming as bad:
            self._send_json(bad.refusal.status, {"error": bad.refusal.info}, close=True)
            return
        self._send_json(*administer(self._ctx.world, self.command, path, raw))

    # wire ---------------------------------------------------------------------------------

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            raise _unauthorized("missing credentials: send the site's public key as user name "
                                "and its private key as password (HTTP Basic)")
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode(
                "utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized("malformed HTTP Basic credentials") from None
        good_user = hmac.compare_digest(user.encode(), self._ctx.public_key.encode())
        good_password = hmac.compare_digest(password.encode(), self._ctx.private_key.encode())
        if not (good_user and good_password):
            raise _unauthorized("invalid API credentials: the public or private key is wrong")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise _BadFraming(411, "chunked bodies are not accepted: send Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadFraming(400, "Content-Length is not a number") from None
        if length < 0 or length > MAX_BODY:
            raise _BadFraming(413, f"the body must be 0 to {MAX_BODY} bytes, got {length}")
        return self.rfile.read(length) if length else b""

    def _reply(self, answer: Answer, *, close: bool = False) -> None:
        self._send(answer.status, encode(answer.document), answer.headers, close=close)

    def _send_json(self, status: int, document: Any, *, close: bool = False) -> None:
        self._send(status, encode(document), {}, close=close)

    def _send(self, status: int, body: bytes, headers: dict[str, str], *, close: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if close or not self._ctx.world.faults.keep_alive:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


def _unauthorized(why: str) -> Refused:
    return Refused(401, f"Authentication failed, {why}",
                   {"WWW-Authenticate": 'Basic realm="OneAll API"'})


def _method_not_allowed(allowed: str) -> Refused:
    return Refused(405, f"method not allowed: this resource only accepts {allowed}",
                   {"Allow": allowed})
