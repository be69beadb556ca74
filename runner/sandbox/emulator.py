"""A loopback emulator of the OneAll Push API, with latency and fault injection.

`Sandbox` serves the 20 push endpoints of `runner.oneall.endpoints`, the Pull API listings and an
unauthenticated `/_sandbox/` introspection API, on a loopback port only. It is what
`pushcal sandbox` runs (`serve_forever`), what `--sandbox` starts in-process so a new user can
see the whole flow without an OneAll account, and what tests, benchmarks and chaos runs talk
to. The rooms behind it: `sandbox_routes` (paths), `sandbox_check` (bodies), `sandbox_world`
(state), `sandbox_push` and `sandbox_pull` (answers), `sandbox_callback` (async uploads),
`sandbox_faults`, `sandbox_outage` (refused connections) and `sandbox_http` (the server).
"""

from __future__ import annotations

import contextlib
import ipaddress
import shlex
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TextIO

from runner.sandbox.faults import Faults
from runner.sandbox.http_server import Context, SandboxServer
from runner.sandbox.world import Received, World

__all__ = ["SANDBOX_PRIVATE_KEY", "SANDBOX_PUBLIC_KEY", "Faults", "Received", "Sandbox",
           "serve_forever"]

# Public, fixed and obviously fake: printing them is fine, they open nothing but a sandbox.
SANDBOX_PUBLIC_KEY = "5a4db0c5-0000-4000-8000-000000000001"
SANDBOX_PRIVATE_KEY = "5a4db0c5-0000-4000-8000-000000000002"
NO_FAULTS = Faults()


class Sandbox:
    """One emulated OneAll site on a loopback port; a context manager that starts and stops."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, faults: Faults = NO_FAULTS,
                 public_key: str = SANDBOX_PUBLIC_KEY, private_key: str = SANDBOX_PRIVATE_KEY,
                 clock: Callable[[], float] = time.time,
                 listener: Callable[[Received], None] | None = None) -> None:
        """`listener` is called (from server threads) with each push request's record."""
        self._address, self._family = _loopback(host)
        self._port = port
        self._world = World(faults, clock)
        self._clock = clock
        self._keys = (public_key, private_key)
        self._listener = listener
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> Sandbox:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._stopping = threading.Event()
        context = Context(self._world, self._clock, self._stopping, *self._keys, self._listener)
        self._server = SandboxServer((self._address, self._port), self._family, context)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="pushcal-sandbox")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections (hung faults included); idempotent."""
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` of the running sandbox."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        host = f"[{self._address}]" if self._family == socket.AF_INET6 else self._address
        return f"http://{host}:{self._server.server_address[1]}"

    def received(self) -> list[Received]:
        """Every push request received so far (faults included), in arrival order."""
        return self._world.received()

    def created(self) -> list[Received]:
        """The push requests that created an object."""
        return [r for r in self._world.received() if r.created is not None]

    def reset(self) -> None:
        """Forget requests, objects, uploads and identity bindings; faults stay."""
        self._world.reset()

    def set_faults(self, faults: Faults) -> None:
        """Change latency and fault injection for the requests that arrive from now on."""
        self._world.set_faults(faults)

    def env(self) -> dict[str, str]:
        """The environment a pushcal client needs to talk to this sandbox."""
        return {"ONEALL_SUBDOMAIN": "sandbox", "ONEALL_PUBLIC_KEY": self._keys[0],
                "ONEALL_PRIVATE_KEY": self._keys[1], "ONEALL_BASE_URL": self.url}


def _loopback(host: str) -> tuple[str, socket.AddressFamily]:
    """The address to bind and its family; anything but loopback is a ValueError."""
    try:
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(f"the sandbox listens on loopback only (127.0.0.1, ::1, localhost), "
                         f"not {host!r}")
    return str(address), socket.AF_INET6 if address.version == 6 else socket.AF_INET


def serve_forever(host: str, port: int, faults: Faults, out: TextIO, *,
                  stop: threading.Event | None = None) -> bool:
    """Run a sandbox for `pushcal sandbox` until Ctrl-C, SIGTERM or `stop`, logging to `out`;
    True if Ctrl-C stopped it.

    Prints the URL and the environment to export, one line per push request, and a summary.
    """
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            out.write(line + "\n")
            out.flush()

    done = stop or threading.Event()
    interrupted = False
    sandbox = Sandbox(host=host, port=port, faults=faults, listener=lambda r: say(log_line(r)))
    with sandbox, _set_on_sigterm(done):
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in sandbox.env().items())
        try:
            say(f"OneAll sandbox listening on {sandbox.url} -- export {exports}")
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            interrupted = True  # Ctrl-C: still say what happened, then exit 130
    say(summary(sandbox.received()))
    return interrupted


@contextlib.contextmanager
def _set_on_sigterm(done: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    previous = signal.signal(signal.SIGTERM, lambda number, frame: done.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def log_line(r: Received) -> str:
    """One line per push request: what, for whom, the answer, and what it created."""
    what = r.endpoint or f"{r.method} {r.path}"
    answer = str(r.status) if r.status else "no answer"
    parts = [f"#{r.seq}", what, r.identity or "-", answer]
    if r.fault:
        parts.append(f"(fault {r.fault})")
    if r.created:
        parts.append(f"created {r.created}")
    if r.duplicate_of is not None:
        parts.append(f"DUPLICATE of #{r.duplicate_of}")
    if r.callback:
        parts.append(f"callback {r.callback}")
    return " ".join(parts)


def summary(records: list[Received]) -> str:
    """The closing line: totals, duplicates, faults, and answers by status."""
    statuses = Counter(str(r.status) if r.status else "none" for r in records)
    by_status = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    created = sum(r.created is not None for r in records)
    duplicates = sum(r.duplicate_of is not None for r in records)
    faults = sum(r.fault is not None for r in records)
    return (f"sandbox stopped: {len(records)} push requests, {created} created, "
            f"{duplicates} duplicates, {faults} faults (answers {by_status or 'none'})")
