"""Metrics: /metrics served on loopback, read back with Prometheus's own text parser, fed by
a real daemon; and the shipped alerting rules and dashboard only name metrics that exist."""

from __future__ import annotations

import asyncio
import io
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from daemon_kit import Rig, calendar, post, soon
from prometheus_client.parser import text_string_to_metric_families

from runner.cli import Context, main
from runner.daemon import Daemon
from runner.daemon.metrics import Metrics
from runner.ledger import SqliteLedger
from runner.sandbox import Faults, Sandbox

ROOT = Path(__file__).resolve().parent.parent
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample at /metrics as {(name, sorted labels): value}, via prometheus_client.parser."""
    with _NO_PROXY.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_events_become_counters_and_histograms_with_prometheus_names(tmp_path: Path) -> None:
    metrics = Metrics()
    metrics.present.provider_of = {"acme-x": "twitter"}.__getitem__
    stop, port = metrics.serve("127.0.0.1", 0)
    try:
        metrics("delivered", {"state": "sent", "account": "acme-x", "late_ms": 12.5, "attempts": 1})
        metrics("delivered", {"state": "sent", "account": "acme-x", "late_ms": 9000, "attempts": 2})
        metrics("delivered", {"state": "failed", "account": "gone"})
        metrics("missed", {"account": "acme-x", "reason": "late"})
        metrics("reloaded", {"entries": 2})
        metrics("reload-rejected", {"problems": 1})
        metrics("ledger-lost", {"error": "connection refused"})
        metrics("concluded", {"state": "sent", "account": "acme-x"})
        metrics("callback-refused", {"reason": "no delivery has this token"})
        metrics("callback-refused", {"reason": "replayed: the delivery is already sent"})
        with SqliteLedger(tmp_path / "l.sqlite", clock=lambda: datetime.now(UTC)) as ledger:
            metrics.present.ledger = ledger
            samples = scrape(port)
    finally:
        stop()
    assert value(samples, "pushcal_deliveries_total", state="sent", account="acme-x",
                 provider="twitter") == 3  # two delivered, one concluded by its callback
    for result, count in (("concluded", 1), ("forged", 1), ("replayed", 1)):
        assert value(samples, "pushcal_callbacks_total", result=result) == count
    assert value(samples, "pushcal_deliveries_total", state="failed", account="gone",
                 provider="unknown") == 1
    assert value(samples, "pushcal_deliveries_total", state="missed", account="acme-x",
                 provider="twitter") == 1
    # Lateness counts first attempts only: a retry's claim is late by design.
    assert value(samples, "pushcal_fire_lateness_seconds_count") == 1
    assert value(samples, "pushcal_fire_lateness_seconds_bucket", le="0.025") == 1
    assert value(samples, "pushcal_fire_lateness_seconds_bucket", le="0.01") == 0
    assert value(samples, "pushcal_reloads_total", result="accepted") == 1
    assert value(samples, "pushcal_reloads_total", result="rejected") == 1
    assert value(samples, "pushcal_ledger_errors_total", kind="lost") == 1
    assert value(samples, "pushcal_ledger_rows", state="sent") == 0
    assert (value(samples, "pushcal_last_success_timestamp_seconds") or 0) > 1.7e9
    assert value(samples, "pushcal_next_fire_timestamp_seconds") == 0


def test_a_running_daemon_is_measured_end_to_end(tmp_path: Path) -> None:
    metrics = Metrics()
    stop, port = metrics.serve("127.0.0.1", 0)
    seen: dict[Any, float] = {}
    with Sandbox(faults=Faults(fail_rate=1.0, fail_codes=("400",), seed=1)) as box:
        rig = Rig(tmp_path, box)
        rig.write(calendar([post("alpha", soon(0.5), ["tw", "page"]),
                            post("later", soon(3600), ["tw"])]))

        async def measure(daemon: Daemon) -> None:
            metrics.present.depths, metrics.present.next_fire = (daemon.workers.depths,
                                                                 daemon.jobs.next_due)
            metrics.present.provider_of = lambda a: daemon.calendar.accounts[a].provider
            metrics.present.ledger = daemon.ledger
            while not rig.settled(("alpha", "tw"), ("alpha", "page"))():
                await asyncio.sleep(0.05)
            # The counters follow the "delivered" events, logged just after each row is
            # recorded: on a loaded machine a scrape can fall between the two.
            for _ in range(100):
                seen.update(await asyncio.to_thread(scrape, port))
                if all(value(seen, "pushcal_deliveries_total", state="failed", account=a,
                             provider=p) for a, p in (("tw", "twitter"), ("page", "facebook"))):
                    break
                await asyncio.sleep(0.05)

        try:
            asyncio.run(rig.run(rig.settled(("alpha", "tw"), ("alpha", "page")), script=measure,
                                observers=[metrics], wrap=metrics.sender))
        finally:
            stop()
    assert value(seen, "pushcal_deliveries_total", state="failed", account="tw",
                 provider="twitter") == 1
    assert value(seen, "pushcal_oneall_errors_total", kind="failed", status="400") == 2
    assert value(seen, "pushcal_send_duration_seconds_count", provider="facebook") == 1
    assert value(seen, "pushcal_ledger_rows", state="failed") == 2
    assert value(seen, "pushcal_queue_depth", account="tw") == 0
    assert (value(seen, "pushcal_next_fire_timestamp_seconds") or 0) > 1.7e9


def test_metrics_needs_a_host_and_port() -> None:
    err = io.StringIO()
    code = main(["run", "cal.yaml", "--metrics", "localhost:http"], Context(env={}, err=err))
    assert (code, err.getvalue()) == (2, "pushcal: --metrics takes HOST:PORT (or a port, on "
                                         "loopback), not 'localhost:http'\n")


def test_the_shipped_rules_and_dashboard_name_only_metrics_that_exist(tmp_path: Path) -> None:
    metrics = Metrics()
    for event in ("delivered", "reloaded", "reload-rejected", "ledger-lost"):
        metrics(event, {"state": "sent", "account": "a", "late_ms": 1, "attempts": 1})
    with SqliteLedger(tmp_path / "l.sqlite", clock=lambda: datetime.now(UTC)) as ledger:
        metrics.present.ledger = ledger
        exposed = {m.name for m in metrics.registry.collect()}
    named = set()
    for shipped in ("deploy/prometheus-rules.yml", "deploy/grafana-dashboard.json"):
        named |= set(re.findall(r"\bpushcal_[a-z_]+", (ROOT / shipped).read_text("utf-8")))
    suffixes = re.compile(r"_(total|bucket|count|sum)$")
    assert named and {suffixes.sub("", n) for n in named} <= exposed, sorted(named)
