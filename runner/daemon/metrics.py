"""Prometheus metrics for `pushcal run --metrics HOST:PORT`: the only prometheus_client user.

Counters and histograms are fed by the event log (this is an observer, like alerts) and by
`MeteredSender`, a `Sender` in front of the OneAll client that times each request and counts
the replies that were not `sent`. Gauges of the daemon's present (queue depth per account,
retry backlog, next firing, rows per state) are read when Prometheus scrapes, from
`Present`, which the command line gives the running daemon's readings. Names follow the
Prometheus conventions: units in names, `_total` on counters, a private registry.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from runner.delivery import Sender
from runner.ledger import Ledger, LedgerError, State
from runner.oneall.wire import Reply, Verdict

LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0,
                    900.0, 3600.0)
T = TypeVar("T")
# Events that mean the ledger refused or failed, and the `kind` label each counts under.
_LEDGER_TROUBLE = {"ledger-lost": "lost", "fatal": "untrusted", "claim-failed": "claim",
                   "unrecorded": "mark"}
SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Present:
    """Readings of the running daemon, taken at scrape time (set once the daemon runs)."""

    depths: Callable[[], Mapping[str, int]] = dict
    next_fire: Callable[[], datetime | None] = lambda: None
    ledger: Ledger | None = None
    provider_of: Callable[[str], str] = lambda account: "unknown"  # may raise KeyError


class Metrics:
    """The metric families, an event observer that feeds them, and the scrape endpoint."""

    def __init__(self) -> None:
        self.present = Present()
        self.registry = registry = CollectorRegistry()
        self.deliveries = Counter("pushcal_deliveries", "Deliveries by the state they ended in",
                                  ["state", "account", "provider"], registry=registry)
        self.lateness = Histogram("pushcal_fire_lateness_seconds",
                                  "From an occurrence's due time to its claim (first attempts)",
                                  buckets=LATENESS_BUCKETS, registry=registry)
        self.send_duration = Histogram("pushcal_send_duration_seconds",
                                       "One request to OneAll, until its reply",
                                       ["provider"], buckets=SEND_BUCKETS, registry=registry)
        self.reloads = Counter("pushcal_reloads", "Calendar reloads", ["result"], registry=registry)
        self.ledger_errors = Counter("pushcal_ledger_errors", "Ledger errors by kind", ["kind"],
                                     registry=registry)
        self.oneall_errors = Counter("pushcal_oneall_errors",
                                     "OneAll replies that were not sent, by verdict and status",
                                     ["kind", "status"], registry=registry)
        self.callbacks = Counter("pushcal_callbacks", "Callbacks received for async uploads",
                                 ["result"], registry=registry)
        self.last_success = Gauge("pushcal_last_success_timestamp_seconds",
                                  "When a delivery last ended sent (Unix time)", registry=registry)
        registry.register(_Readings(self.present, self.ledger_errors))

    def __call__(self, event: str, fields: Mapping[str, Any]) -> None:
        """Count one event of the daemon's log."""
        account = str(fields.get("account", ""))
        if event in ("delivered", "recovered", "orphaned", "missed", "cancelled", "concluded"):
            state = str(fields.get("state", event))
            self.deliveries.labels(state, account, self._provider(account)).inc()
            if state == State.SENT:
                self.last_success.set(time.time())
            late = fields.get("late_ms")
            if event == "delivered" and late is not None and fields.get("attempts") == 1:
                self.lateness.observe(max(0.0, float(late) / 1000))
        if event == "concluded":
            self.callbacks.labels("timed-out" if fields.get("state") == "unknown"
                                  else "concluded").inc()
        elif event == "callback-refused":
            reason = str(fields.get("reason", ""))
            self.callbacks.labels("replayed" if reason.startswith("replayed") else
                                  "invalid" if reason == "not a OneAll envelope" else "forged").inc()
        elif event in ("reloaded", "reload-rejected"):
            self.reloads.labels("accepted" if event == "reloaded" else "rejected").inc()
        elif event in _LEDGER_TROUBLE:
            self.ledger_errors.labels(_LEDGER_TROUBLE[event]).inc()
        elif event == "error" and str(fields.get("error", "")).startswith("LedgerError"):
            self.ledger_errors.labels("write").inc()

    def sender(self, client: Sender) -> Sender:
        """`client`, timed and its refusals counted."""
        return MeteredSender(client, self)

    def serve(self, host: str, port: int) -> tuple[Callable[[], None], int]:
        """Serve /metrics; returns how to stop it and the port it listens on."""
        server, thread = start_http_server(port, host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

        return stop, int(server.server_address[1])

    def _provider(self, account: str) -> str:
        try:
            return self.present.provider_of(account)
        except KeyError:
            return "unknown"


@dataclass
class MeteredSender:
    """A `Sender` that times each request and counts replies that were not `sent`."""

    client: Sender
    metrics: Metrics

    async def send(self, method: str, path: str, body: Mapping[str, Any] | None, *,
                   lane: str = "") -> Reply:
        started = time.perf_counter()
        reply = await self.client.send(method, path, body, lane=lane)
        provider = self.metrics._provider(lane)
        self.metrics.send_duration.labels(provider).observe(time.perf_counter() - started)
        if reply.verdict is not Verdict.SENT:
            self.metrics.oneall_errors.labels(reply.verdict.value, str(reply.status or "none")).inc()
        return reply


class _Readings(Collector):
    """The gauges read at scrape time from the daemon and the ledger."""

    def __init__(self, present: Present, ledger_errors: Counter) -> None:
        self._present, self._ledger_errors = present, ledger_errors

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("pushcal_queue_depth", "Occurrences waiting per account",
                                  labels=["account"])
        none: Mapping[str, int] = {}
        for account, waiting in sorted(_calm(self._present.depths, none).items()):
            depth.add_metric([account], waiting)
        yield depth
        upcoming = _calm(self._present.next_fire, None)
        yield GaugeMetricFamily("pushcal_next_fire_timestamp_seconds",
                                "When the next occurrence is due (Unix time; 0: none)",
                                value=upcoming.timestamp() if upcoming else 0.0)
        yield from self._ledger_families()

    def _ledger_families(self) -> Iterator[GaugeMetricFamily]:
        ledger = self._present.ledger
        if ledger is None:
            return
        try:
            counts, waiting = ledger.counts(), ledger.rows(states=[State.RETRY_WAIT])
        except LedgerError:
            self._ledger_errors.labels("read").inc()
            return
        rows = GaugeMetricFamily("pushcal_ledger_rows", "Ledger rows per state now", labels=["state"])
        for state, count in counts.items():
            rows.add_metric([str(state)], count)
        yield rows
        backlog = GaugeMetricFamily("pushcal_retry_backlog", "Rows in retry_wait per account",
                                    labels=["account"])
        for account, count in sorted(Tally(row.account for row in waiting).items()):
            backlog.add_metric([account], count)
        yield backlog


def _calm(read: Callable[[], T], otherwise: T) -> T:
    """Read the daemon's state from the scrape thread: a dict the event loop changes while
    it is read raises RuntimeError, and reading again a moment later is all it needs."""
    for _ in range(3):
        try:
            return read()
        except RuntimeError:
            continue
    return otherwise
