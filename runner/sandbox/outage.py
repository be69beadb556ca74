"""Refused connections for real: the sandbox's listening port closes for a while, then reopens.

A client can only be refused (ECONNREFUSED, "nothing was sent") when it opens a connection
while nothing listens on the port. Closing the listening socket and binding a new one would
race other processes for the port and confuse `socketserver`'s selector, so the same socket
is paused instead: `shutdown(SHUT_RD)` on a listening socket stops it listening (Linux: the
kernel then answers every SYN with a reset) and `listen()` starts it again, same port.

The pause is done by the serve thread, between two accepts (`SandboxServer.service_actions`),
so no `accept()` spins on a socket that is not listening. A connection already waiting in
the accept queue when the port closes would be reset after the client believed it connected,
which is a drop (an `unknown`), not a refusal; the pause waits until that queue is empty, so
only a connection arriving within the few microseconds between that check and the shutdown
can meet that fate.
"""

from __future__ import annotations

import errno
import select
import socket
import threading


class Outage:
    """Outages asked for by request threads and carried out by the serve thread."""

    def __init__(self, stopping: threading.Event, backlog: int) -> None:
        self._stopping, self._backlog = stopping, backlog
        self._lock = threading.Lock()
        self._wanted = 0.0  # seconds of the next outage; 0: none asked for
        self._started = threading.Event()

    def request(self, seconds: float, wait: float = 5.0) -> None:
        """Ask for the port to close for `seconds`; return once it has (or after `wait`), so
        the answer that follows reaches its client only when new connections are refused."""
        with self._lock:
            self._wanted = max(self._wanted, seconds)
            self._started.clear()
        self._started.wait(wait)

    def carry_out(self, listener: socket.socket) -> None:
        """From the serve thread: close the port for the outage asked for, if any."""
        with self._lock:
            seconds = self._wanted
            if seconds <= 0 or _pending(listener):
                return  # nothing asked, or accept the waiting connection first
            self._wanted = 0.0
        address = listener.getsockname()
        listener.shutdown(socket.SHUT_RD)
        self._started.set()
        try:
            self._stopping.wait(seconds)
        finally:
            _listen_again(listener, address, self._backlog)


def _pending(listener: socket.socket) -> bool:
    readable, _, _ = select.select([listener], [], [], 0)
    return bool(readable)


def _listen_again(listener: socket.socket, address: tuple[str, int], backlog: int) -> None:
    # A port the kernel picked (bound to 0) is released by the pause and must be bound again;
    # a port bound explicitly stays bound, and binding it again says EINVAL. Anything else
    # (another process took the port meanwhile) must not end in listen() picking a new port.
    try:
        listener.bind(address)
    except OSError as error:
        if error.errno != errno.EINVAL:
            raise
    listener.listen(backlog)
