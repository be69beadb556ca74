"""The dead-man ping reaches a real loopback receiver: URL while healthy, URL/fail with the
reason when the calendar was rejected, the ledger does not answer or the heartbeat is stale."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from daemon_kit import calendar, post, stamp
from receivers import receiving

from runner.cli import Context, main
from runner.daemon import CapturedLog
from runner.daemon.ping import Ping, fail_url, heartbeat_fresh, ledger_answers
from runner.ledger import SqliteLedger


def test_fail_url_keeps_the_query() -> None:
    assert fail_url("https://hc-ping.com/abc/") == "https://hc-ping.com/abc/fail"
    assert fail_url("http://kuma/api/push/T?status=up") == "http://kuma/api/push/T/fail?status=up"


def test_pings_say_ok_then_fail_while_a_reload_is_rejected_then_ok_again() -> None:
    with receiving() as monitor:
        ping = Ping(monitor.url + "/uuid", every=3600, log=CapturedLog())
        ping.ping_once()
        ping("reload-rejected", {"problems": 2, "reason": "SIGHUP"})
        ping.ping_once()
        ping("reloaded", {"entries": 3})
        ping.ping_once()
        got = monitor.wait_for(3)
    assert [(g.path, g.body.decode()) for g in got] == [
        ("/uuid", "ok"),
        ("/uuid/fail", "calendar rejected (2 problems): the last valid one is running"),
        ("/uuid", "ok")]


def test_an_unreachable_ledger_and_a_stale_heartbeat_are_unhealthy(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.sqlite", clock=lambda: datetime.now(UTC))
    beat = tmp_path / "heartbeat.json"
    beat.write_text("{}")
    checks = [ledger_answers(ledger), heartbeat_fresh(beat, 15)]
    ping = Ping("http://127.0.0.1:9/", every=3600, log=CapturedLog(), checks=checks)
    assert ping.health() is None
    ledger.close()
    old = time.time() - 60
    os.utime(beat, (old, old))
    trouble = ping.health() or ""
    assert trouble.startswith(f"ledger unreachable: ledger {tmp_path / 'ledger.sqlite'} ")
    assert trouble.endswith(f"; heartbeat {beat} not rewritten for 60 s")
    beat.unlink()
    assert (f"heartbeat {beat} unwritable: No such file or directory"
            in (ping.health() or ""))


def test_a_ping_that_cannot_get_through_is_logged_once_per_outage() -> None:
    log = CapturedLog()
    with receiving(status=503) as monitor:
        ping = Ping(monitor.url, every=3600, log=log)
        for _ in range(3):
            ping.ping_once()
        monitor.status = 200
        ping.ping_once()
        monitor.status = 503
        ping.ping_once()
    assert log.named("ping-failed") == [{"target": "127.0.0.1", "reason": "HTTP 503"}] * 2


def test_pushcal_run_pings_from_start_to_stop(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(calendar([post("later", stamp(datetime.now(UTC) + timedelta(days=3)), ["tw"])]))
    with receiving() as monitor:
        until = stamp(datetime.now(UTC) + timedelta(minutes=10))
        code = main(["run", str(path), "--sandbox", "--rehearse", "--speed", "600", "--until", until,
                     "--ping", monitor.url + "/check", "--ping-every", "0.2"],
                    Context(env={}, out=io.StringIO(), err=io.StringIO()))
        got = monitor.wait_for(1)
    assert code == 0
    assert got and {(g.method, g.path, g.body) for g in got} == {("POST", "/check", b"ok")}
