"""Issue 9, classes 1, 3 and 4: a daemon that keeps going, and says so, when things break.

1. A valid calendar never stops the daemon, and no background task fails silently: an
   `error` event, the rest keeps running, the heartbeat and `status --check` fail.
3. A claim the ledger refuses for a while is retried within grace and then recorded
   `missed`; downtime longer than the lookback still ends in a row per occurrence.
4. Rows nobody will finish (a killed `pushcal send`) are reported; a human's
   `resolve --not-sent` takes effect in a running daemon.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from conftest import Run, run_pushcal
from daemon_kit import Rig, calendar, created, post, soon, stamp

from runner.daemon import Daemon, heartbeat
from runner.ledger import ClaimRequest, Ledger, LedgerUnavailable, Row, SqliteLedger, State
from runner.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with Sandbox() as sandbox:
        yield Rig(tmp_path, sandbox)


def health(rig: Rig) -> dict[str, object]:
    path = rig.state.with_name(rig.state.name + ".health")
    return json.loads(path.read_text()) if path.exists() else {}


def test_a_failing_task_is_reported_and_fails_the_health_while_the_rest_runs(
        rig: Rig, tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    rig.write(calendar([post("one", soon(0.5), ["tw"])]))
    seen: dict[str, object] = {}

    def done() -> bool:
        seen.update(health(rig))
        sent = rig.rows().get(("one", "tw"))
        return sent is not None and sent.state is State.SENT and bool(seen.get("failing"))

    async def check_status(daemon: Daemon) -> None:
        for _ in range(200):
            if health(rig).get("failing"):
                break
            await asyncio.sleep(0.05)
        result = await asyncio.to_thread(run_pushcal, ["status", "--check", "--state",
                                                       str(rig.state)])
        seen["status"] = result

    asyncio.run(rig.run(done, script=check_status, heartbeat_every=0.1,
                        heartbeat=tmp_path / "not-a-folder" / "heartbeat.json",
                        health=rig.state.with_name(rig.state.name + ".health")))
    assert seen["healthy"] is False and list(seen["failing"]) == ["heartbeat"]  # type: ignore[call-overload]
    assert " error task=heartbeat error=\"FileExistsError: " in rig.logged()
    result = seen["status"]
    assert isinstance(result, Run)
    assert result.code == 1
    assert "daemon: task heartbeat is failing: FileExistsError" in result.out
    assert created(rig.sandbox) == {("one", "tw"): 1}  # the rest kept running


def test_a_valid_calendar_validates_only_what_every_reader_accepts(tmp_path: Path) -> None:
    document = json.loads(calendar([post("a", "2030-01-01 09:00", ["tw"],
                                         repeat={"every": "day", "interval": 2.0})]))
    document["accounts"]["tw"]["rate_limit"] = "20/h\n"
    document["accounts"]["page"]["identity"] += "\n"
    path = tmp_path / "calendar.yaml"
    path.write_text(json.dumps(document))
    result = run_pushcal(["validate", str(path)])
    assert result.code == 1
    assert "repeat.interval: expected a whole number, got the number 2.0" in result.out
    assert "accounts.tw.rate_limit" in result.out and "accounts.page.identity" in result.out


def test_a_large_calendar_takes_the_same_view_of_a_whole_float(tmp_path: Path) -> None:
    posts = [post(f"p{n}", "2030-01-01 09:00", ["tw"]) for n in range(400)]
    posts.append(post("x", "2030-01-01 09:00", ["tw"],
                      repeat={"every": "day", "interval": 2.0, "forever": True}))
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar(posts))
    result = run_pushcal(["validate", str(path)])
    assert result.code == 1 and "expected a whole number, got the number 2.0" in result.out


def test_a_sighup_during_start_up_does_not_kill_the_daemon(rig: Rig) -> None:
    # A calendar big enough that validating it takes a moment, and a SIGHUP right away.
    rig.write(calendar([post(f"p{n}", soon(3600 + n), ["tw"]) for n in range(1500)]))
    env = {**os.environ, **rig.sandbox.env()}
    env.pop("PUSHCAL_STATE", None)
    log = rig.folder / "run.log"
    with log.open("w") as stream:
        child = subprocess.Popen([sys.executable, "-m", "runner", "run", str(rig.path),
                                  "--state", str(rig.state)], stderr=stream,
                                 stdout=subprocess.DEVNULL, env=env)
    try:
        # Once Python has caught SIGHUP (/proc says so), start-up is under way.
        status = Path(f"/proc/{child.pid}/status")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and child.poll() is None:
            caught = next(line for line in status.read_text().splitlines()
                          if line.startswith("SigCgt:"))
            if int(caught.split()[1], 16) & (1 << (signal.SIGHUP - 1)):
                break
            time.sleep(0.01)
        assert " started " not in log.read_text()  # still reading the calendar
        child.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while " reloaded reason=SIGHUP" not in log.read_text() and time.monotonic() < deadline \
                and child.poll() is None:
            time.sleep(0.05)
        assert child.poll() is None, log.read_text()
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert " reloaded reason=SIGHUP" in log.read_text()


def test_a_claim_refused_by_a_held_lock_is_retried_then_sent(rig: Rig) -> None:
    rig.busy_timeout = 0.2
    rig.write(calendar([post("one", soon(0.6), ["tw"])]))
    with SqliteLedger(rig.state, clock=lambda: datetime.now(UTC)):
        pass
    blocker = sqlite3.connect(rig.state, isolation_level=None)

    async def hold_the_lock(daemon: Daemon) -> None:
        blocker.execute("BEGIN IMMEDIATE")  # another process's long transaction
        await asyncio.sleep(2.5)
        blocker.execute("ROLLBACK")

    try:
        asyncio.run(rig.run(rig.settled(("one", "tw")), script=hold_the_lock))
    finally:
        blocker.close()
    assert " claim-failed entry=one " in rig.logged()
    assert rig.rows()[("one", "tw")].state is State.SENT
    assert created(rig.sandbox) == {("one", "tw"): 1}


def test_a_claim_refused_past_its_grace_ends_missed_and_health_fails_meanwhile(
        rig: Rig) -> None:
    rig.busy_timeout = 0.1
    rig.write(calendar([post("one", soon(0.3), ["tw"], grace="1s")]))
    with SqliteLedger(rig.state, clock=lambda: datetime.now(UTC)):
        pass
    blocker = sqlite3.connect(rig.state, isolation_level=None)
    during: dict[str, object] = {}

    async def hold_the_lock(daemon: Daemon) -> None:
        blocker.execute("BEGIN IMMEDIATE")
        for _ in range(200):
            if daemon.workers.unrecorded:
                break
            await asyncio.sleep(0.05)
        during["unrecorded"] = len(daemon.workers.unrecorded)
        blocker.execute("ROLLBACK")

    try:
        asyncio.run(rig.run(rig.settled(("one", "tw")), script=hold_the_lock))
    finally:
        blocker.close()
    assert during == {"unrecorded": 1}
    assert " unrecorded entry=one " in rig.logged() and " recorded entry=one " in rig.logged()
    row = rig.rows()[("one", "tw")]
    assert row.state is State.MISSED and created(rig.sandbox) == {}


def test_down_for_ten_days_every_occurrence_ends_in_a_row(rig: Rig) -> None:
    now = datetime.now(UTC)
    first = now - timedelta(days=12)
    rig.write(calendar([post("daily", stamp(first), ["tw"], repeat={"every": "day", "forever": True})],
                       zone="UTC"))
    ten_days_ago = now - timedelta(days=10, hours=1)
    with SqliteLedger(rig.state, clock=lambda: ten_days_ago) as ledger:  # last seen then
        ledger.mark("other", entry="other", account="tw", scheduled=ten_days_ago,
                    endpoint="", state=State.CANCELLED, info="cancelled")
    days = [(first + timedelta(days=n)).date() for n in range(2, 13)]
    keys = [(f"daily@{day.isoformat()}", "tw") for day in days if
            datetime.combine(day, first.time(), UTC) < now]
    asyncio.run(rig.run(rig.settled(*keys)))
    rows = rig.rows()
    assert all(rows[k].state is State.MISSED for k in keys)
    assert len(keys) >= 10  # older than the 7-day lookback, still recorded


def test_a_crash_left_behind_does_not_shorten_the_look_back_after_long_downtime(rig: Rig) -> None:
    # The crashed daemon's `sending` row is recovered at start, which records an event now;
    # the look-back must still reach the ledger's last record before that, ten days ago.
    now = datetime.now(UTC)
    first = now - timedelta(days=12)
    rig.write(calendar([post("daily", stamp(first), ["tw"], repeat={"every": "day", "forever": True}),
                        post("stuck", stamp(now - timedelta(days=10)), ["tw"])], zone="UTC"))
    ten_days_ago = now - timedelta(days=10, hours=1)
    with SqliteLedger(rig.state, clock=lambda: ten_days_ago) as ledger:  # a crash mid-send
        ledger.claim(ClaimRequest("stuck", "stuck", "tw", ten_days_ago, "twitter/post", "h", None))
    days = [(first + timedelta(days=n)).date() for n in range(2, 13)]
    keys = [(f"daily@{day.isoformat()}", "tw") for day in days if
            datetime.combine(day, first.time(), UTC) < now]
    asyncio.run(rig.run(rig.settled(*keys)))
    rows = rig.rows()
    assert rows[("stuck", "tw")].state is State.UNKNOWN
    assert [k for k in keys if rows.get(k) is None] == []
    assert all(rows[k].state is State.MISSED for k in keys) and len(keys) >= 10


SENDER = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from runner.ledger import ClaimRequest, SqliteLedger
ledger = SqliteLedger(Path(sys.argv[1]), clock=lambda: datetime.now(UTC))
with ledger.hold_for_sending():
    ledger.claim(ClaimRequest("one", "one", "tw", datetime.now(UTC), "twitter/post", "h", None))
    print("claimed", flush=True)
    time.sleep(60)
"""


def test_a_killed_send_is_reported_and_a_resolve_takes_effect_while_running(
        rig: Rig) -> None:
    due = datetime.now(UTC) - timedelta(seconds=60)
    rig.write(calendar([post("one", soon(3600), ["tw"]), post("two", stamp(due), ["tw"])]))
    with SqliteLedger(rig.state, clock=lambda: datetime.now(UTC)) as ledger:
        ledger.claim(ClaimRequest("two", "two", "tw", due, "twitter/post", "h", None))
        ledger.finish("two", "tw", State.UNKNOWN, info="read timeout")
    seen: dict[str, object] = {}

    async def kill_a_sender_then_resolve(daemon: Daemon) -> None:
        # A `pushcal send` that claimed `one` and was killed before it could record anything.
        sender = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SENDER, str(rig.state), stdout=asyncio.subprocess.PIPE)
        assert sender.stdout is not None
        assert await sender.stdout.readline() == b"claimed\n"
        await asyncio.sleep(1.5)  # alive: its row is its own, nobody touches it
        seen["while alive"] = rig.rows()[("one", "tw")].state
        sender.kill()
        await sender.wait()
        for _ in range(200):
            if rig.rows()[("one", "tw")].state is State.UNKNOWN:
                break
            await asyncio.sleep(0.05)
        seen["status"] = await asyncio.to_thread(
            run_pushcal, ["status", "--check", "--state", str(rig.state)])
        with SqliteLedger(rig.state, clock=lambda: datetime.now(UTC)) as ledger:
            ledger.resolve("two", "tw", sent=False)

    asyncio.run(rig.run(rig.settled(("two", "tw"), ("one", "tw")),
                        script=kill_a_sender_then_resolve, timeout=20))
    assert seen["while alive"] is State.SENDING
    assert " orphaned entry=one account=tw key=one " in rig.logged()
    status = seen["status"]
    assert isinstance(status, Run)
    assert status.code == 1
    assert "one -> tw  unknown  its sender stopped while sending" in status.out
    assert rig.rows()[("two", "tw")].state is State.SENT
    assert created(rig.sandbox) == {("two", "tw"): 1}


def test_status_check_reports_a_sending_row_no_process_owns(rig: Rig) -> None:
    with SqliteLedger(rig.state, clock=lambda: datetime.now(UTC)) as ledger:
        ledger.claim(ClaimRequest("one", "one", "tw", datetime.now(UTC), "twitter/post", "h",
                                  None))
    seen = run_pushcal(["status", "--check", "--state", str(rig.state)])
    assert seen.code == 1
    assert "one -> tw  sending  (no process is sending it: its sender was killed" in seen.out


def test_the_health_check_fails_while_a_task_is_failing(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat.json"
    moment = datetime.now(UTC)
    heartbeat.beat(beat, clock=lambda: moment, last_fire=None, next_fire=None, attention=0,
                   backlog=0, fired=0, failing={"roll": "ValueError: boom"})
    done = subprocess.run([sys.executable, str(ROOT / "deploy" / "healthcheck.py"), str(beat)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stdout.startswith("unhealthy: failing tasks: roll; unrecorded misses: 0;")


class Unreachable:
    """A real ledger before which the shared database can be made unreachable: while `away`,
    announcing, beating and reconnecting raise LedgerUnavailable, as a PostgreSQL ledger
    does when its server is gone."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger, self.away = ledger, False
        self.announced: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._ledger, name)

    def _reachable(self) -> None:
        if self.away:
            raise LedgerUnavailable("connection refused (test)")

    def announce(self, calendar_hash: str, commit: str | None) -> None:
        self._reachable()
        self.announced.append(calendar_hash)
        self._ledger.announce(calendar_hash, commit)

    def beat(self) -> list[Row]:
        self._reachable()
        return self._ledger.beat()

    def reconnect(self) -> None:
        self._reachable()
        self._ledger.reconnect()


def test_an_edit_made_while_the_ledger_is_away_is_applied_when_it_is_back(rig: Rig) -> None:
    """The calendar loses a post while the database is unreachable. The reload waits (the
    old calendar is kept, nothing is dropped silently); once the ledger is back it is
    applied: announced to the peers, and the removed post recorded `cancelled`."""
    stays, goes = soon(3600), soon(3700)
    rig.write(calendar([post("stays", stays, ["tw"]), post("goes", goes, ["tw"])]))
    fronts: list[Unreachable] = []

    def wrap(ledger: Ledger) -> Ledger:
        fronts.append(Unreachable(ledger))
        return cast(Ledger, fronts[0])  # the rest of the Ledger, through __getattr__

    async def script(daemon: Daemon) -> None:
        fronts[0].away = True
        await rig.wait_for_log(" ledger-lost ")
        rig.write(calendar([post("stays", stays, ["tw"])]))
        await rig.wait_for_log(" reload-deferred ")
        assert "goes" in daemon.calendar.entries  # kept until the ledger is back
        fronts[0].away = False

    def cancelled() -> bool:
        row = rig.rows().get(("goes", "tw"))
        return row is not None and row.state is State.CANCELLED

    logged = asyncio.run(rig.run(cancelled, script=script, wrap_ledger=wrap, beat_every=0.05))
    assert logged.index(" reload-deferred ") < logged.index(" ledger-back ") < \
        logged.index(" reloaded ")
    assert len(fronts[0].announced) == 2  # at start, and the new calendar once back
    assert rig.daemon is not None
    assert fronts[0].announced[-1] == rig.daemon.calendar.digest != fronts[0].announced[0]
    assert ("stays", "tw") not in rig.rows()  # still pending, nothing else recorded
