"""Posting alerts to webhooks without ever holding up a delivery.

The daemon's event log calls `Notifier` (an observer) on the event loop; all it does there is
`put_nowait` into a bounded queue, so publishing never waits for a webhook. One thread
takes alerts off the queue, groups those that arrive within `window` seconds into one
message (a burst of 300 failures is one post, not 300), and POSTs it to each target with a
timeout and retries with backoff. A full queue drops the alert with a log line.

Sending uses the standard library (urllib, in this thread), not httpx: httpx belongs to the
OneAll client, whose pool, timeouts and credentials are for OneAll alone, and a webhook that
hangs must not share anything with the requests that publish. Webhook URLs are secrets too
(a Slack URL is its own password): logs name a target by its host only. Every body is
scrubbed of the keys the notifier is told about before it leaves.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from runner import __version__
from runner.clock import utc_text
from runner.daemon.alerts import Alert, Commands, Kind, alert_of, event_document, slack_document
from runner.daemon.events import EventLog
from runner.ledger import Row, State

Format = Literal["slack", "json"]
SIGNATURE_HEADER = "X-Pushcal-Signature"  # sha256=<hex HMAC of "<timestamp>.<body>">
TIMESTAMP_HEADER = "X-Pushcal-Timestamp"  # Unix seconds, signed with the body
_STOP = object()


@dataclass(frozen=True)
class Target:
    """One webhook: its URL and the payload it takes."""

    url: str
    fmt: Format = "slack"

    @property
    def host(self) -> str:
        """What logs call it: never the URL, whose path is often the webhook's secret."""
        return urlsplit(self.url).hostname or "?"


@dataclass(frozen=True)
class Settings:
    """How hard to try; the defaults are `pushcal run`'s."""

    window: float = 2.0  # seconds: alerts this close together go out as one message
    timeout: float = 5.0  # seconds per HTTP request
    attempts: int = 4  # per message and target
    backoff: float = 1.0  # seconds before the 2nd attempt, doubling after
    capacity: int = 1000  # alerts waiting; more are dropped (and logged)
    flush: float = 10.0  # seconds `close` waits for the last messages


class Notifier:
    """An event-log observer that turns events into alerts and posts them from its thread."""

    def __init__(self, targets: Sequence[Target], *, commands: Commands, log: EventLog,
                 secret: bytes | None = None, redact: Sequence[str] = (),
                 settings: Settings | None = None, clock: Callable[[], float] = time.time) -> None:
        self.targets, self._commands, self._log = tuple(targets), commands, log
        self._secret, self._redact = secret, tuple(s for s in redact if s)
        self.settings = settings or Settings()
        self._clock = clock
        self._queue: queue.Queue[object] = queue.Queue(self.settings.capacity)
        self._closing = threading.Event()
        self._deadline = float("inf")  # set by `close`: nothing is tried after it
        self._thread = threading.Thread(target=self._run, name="pushcal-notify", daemon=True)
        self.sent = 0  # messages delivered (for tests and the bench)

    def start(self) -> Notifier:
        self._thread.start()
        return self

    def __call__(self, event: str, fields: Mapping[str, Any]) -> None:
        if event.startswith("alert-"):
            return  # our own lines: never alert about alerting
        alert = alert_of(event, fields, self._commands, utc_text_now(self._clock))
        if alert is not None:
            self._put(alert)

    def _put(self, alert: Alert) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self._log("alert-dropped", kind=alert.kind, entry=alert.entry, account=alert.account,
                      key=alert.key, reason=f"{self.settings.capacity} alerts already waiting")

    def remind(self, rows: Sequence[Row]) -> None:
        """Alert again, at start, every row that still needs a person. Alerts live in
        memory: a daemon killed within a window of an alert never sent it, so each start
        says once more what is open (one grouped message; receivers may see a row twice)."""
        for row in rows:
            kind: Kind = "unknown" if row.state is State.UNKNOWN else str(row.state)  # type: ignore[assignment]
            self._put(Alert(kind, utc_text_now(self._clock), f"still {row.state}: {row.info}",
                            self._commands.fix(kind, row.entry, row.account, row.key),
                            row.entry, row.account, row.key))

    def close(self) -> None:
        """Send what is queued (for up to `flush` seconds), then stop the thread."""
        self._deadline = time.monotonic() + self.settings.flush
        self._closing.set()
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=self.settings.flush)
        self._thread.join(self.settings.flush)
        if self._thread.is_alive():
            self._log("alert-unsent", waiting=self._queue.qsize(),
                      reason=f"a webhook still busy after {self.settings.flush:g} s at shutdown")

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch, stop = self._gather([first])  # type: ignore[list-item]
            self._post_all(batch)
            if stop:
                return

    def _gather(self, batch: list[Alert]) -> tuple[list[Alert], bool]:
        """More alerts that arrive within the window (none waited for once closing)."""
        deadline = time.monotonic() + (0.0 if self._closing.is_set() else self.settings.window)
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return batch, False
            if item is _STOP:
                return batch, True
            batch.append(item)  # type: ignore[arg-type]

    def _post_all(self, batch: list[Alert]) -> None:
        ident = str(uuid.uuid4())
        for target in self.targets:
            document = (slack_document(batch) if target.fmt == "slack"
                        else event_document(batch, ident))
            if self._post(target, self._body(document)):
                self.sent += 1

    def _body(self, document: dict[str, Any]) -> bytes:
        text = json.dumps(document, ensure_ascii=False)
        for secret in self._redact:
            text = text.replace(json.dumps(secret, ensure_ascii=False)[1:-1], "***")
        return text.encode("utf-8")

    def _post(self, target: Target, body: bytes) -> bool:
        """POST with retries; True once a 2xx came back."""
        delay, why = self.settings.backoff, ""
        for attempt in range(1, self.settings.attempts + 1):
            try:
                timeout = min(self.settings.timeout, max(0.1, self._remaining()))
                with _OPENER.open(self._request(target, body), timeout=timeout):
                    return True
            except urllib.error.HTTPError as error:
                why = f"HTTP {error.code}"
                if error.code < 500 and error.code != 429:
                    break  # the webhook refuses this message: sending it again will not help
            except (OSError, ValueError) as error:
                why = type(error).__name__ + (f": {error.reason}" if hasattr(error, "reason") else "")
            if attempt == self.settings.attempts or self._remaining() <= 0:
                break
            self._closing.wait(delay)  # shutting down: try again at once, within `flush`
            delay *= 2
        self._log("alert-failed", target=target.host, attempts=attempt, reason=why)
        return False

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _request(self, target: Target, body: bytes) -> urllib.request.Request:
        headers = {"Content-Type": "application/json", "User-Agent": f"pushcal/{__version__}"}
        if self._secret is not None:
            stamp = str(int(self._clock()))
            digest = hmac.new(self._secret, stamp.encode() + b"." + body, hashlib.sha256)
            headers |= {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: f"sha256={digest.hexdigest()}"}
        return urllib.request.Request(target.url, data=body, headers=headers, method="POST")


def utc_text_now(clock: Callable[[], float]) -> str:
    """Now, as every moment is written."""
    return utc_text(datetime.fromtimestamp(clock(), UTC))


# Redirects are not followed: a POST silently turned into a GET elsewhere is not a delivery.
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
