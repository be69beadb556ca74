"""The dead-man ping: `pushcal run --ping URL` requests URL every interval while healthy.

The convention of healthchecks.io, Uptime Kuma push monitors and cron monitors: the outside
service alerts when the pings stop (the daemon died, hung or lost its network), and a ping
to `URL/fail` says the daemon is alive but unhealthy. Unhealthy means one of: the ledger does
not answer, the last reload was rejected (an old calendar is running), or the heartbeat file
is not being rewritten. The body is one line of text saying which, or what is fine.

It is an observer of the event log (it starts on `started`, stops on `stopped`, and follows
reloads) and pings from its own thread with urllib, like alerts, so it never holds up a
delivery. A deliberate stop stops the pings too: pause the check while you maintain.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from runner import __version__
from runner.daemon.events import EventLog
from runner.ledger import Ledger

Check = Callable[[], str | None]  # None when healthy, else why not
_OPENER = urllib.request.build_opener()


def fail_url(url: str) -> str:
    """`URL/fail`, the query kept: `https://hc-ping.com/UUID` -> `https://hc-ping.com/UUID/fail`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/fail"))


def ledger_answers(ledger: Ledger) -> Check:
    """Unhealthy while the ledger cannot be read."""
    def check() -> str | None:
        try:
            ledger.counts()
        except Exception as error:  # any failure to read is what this check is for
            return f"ledger unreachable: {error}"
        return None
    return check


def heartbeat_fresh(path: Path, max_age: float) -> Check:
    """Unhealthy when the heartbeat file is older than `max_age` seconds (or missing)."""
    def check() -> str | None:
        try:
            age = time.time() - path.stat().st_mtime
        except OSError as error:
            return f"heartbeat {path} unwritable: {error.strerror or error}"
        return None if age <= max_age else f"heartbeat {path} not rewritten for {age:.0f} s"
    return check


class Ping:
    """Pings `url` every `every` seconds from `started` to `stopped`."""

    def __init__(self, url: str, *, every: float, log: EventLog, checks: Sequence[Check] = (),
                 timeout: float = 10.0) -> None:
        self.url, self.every, self.timeout, self._log = url, every, timeout, log
        self.checks = list(checks)
        self.rejected: str | None = None  # why the last reload was rejected, until one is accepted
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def __call__(self, event: str, fields: Mapping[str, Any]) -> None:
        if event == "started" and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pushcal-ping", daemon=True)
            self._thread.start()
        elif event == "reload-rejected":
            found = fields.get("problems")
            self.rejected = f"{found} problems" if found else str(fields.get("error", ""))
        elif event == "reloaded":
            self.rejected = None
        elif event == "stopped":
            self.close()

    def health(self) -> str | None:
        """None when healthy, else every reason it is not, joined."""
        reasons = [f"calendar rejected ({self.rejected}): the last valid one is running"
                   if self.rejected else None, *(check() for check in self.checks)]
        found = [reason for reason in reasons if reason]
        return "; ".join(found) or None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.timeout)

    def _run(self) -> None:
        while True:
            self.ping_once()
            if self._stop.wait(self.every):
                return

    def ping_once(self) -> None:
        """One ping: to URL when healthy, to URL/fail with the reasons when not."""
        trouble = self.health()
        url, body = (self.url, "ok") if trouble is None else (fail_url(self.url), trouble)
        request = urllib.request.Request(url, data=body.encode("utf-8"), method="POST", headers={
            "Content-Type": "text/plain; charset=utf-8", "User-Agent": f"pushcal/{__version__}"})
        try:
            with _OPENER.open(request, timeout=self.timeout):
                pass
        except (OSError, ValueError) as error:
            if not self._failing:  # one line per outage, not one per interval
                host = urlsplit(self.url).hostname or "?"
                self._log("ping-failed", target=host, reason=_why(error))
            self._failing = True
            return
        self._failing = False


def _why(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    return f"{type(error).__name__}: {getattr(error, 'reason', error)}"
