"""The signals an operator watches: the heartbeat file and `pushcal status --check`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from daemon_kit import Rig, calendar, post, soon

from runner.daemon import heartbeat
from runner.ledger import ClaimRequest, SqliteLedger, State
from runner.sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def test_a_heartbeat_is_written_whole_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "run" / "heartbeat.json"
    moment = datetime(2026, 12, 1, 8, 0, 0, 250000, tzinfo=UTC)
    heartbeat.beat(path, clock=lambda: moment, last_fire=None, next_fire=moment,
                   attention=2, backlog=0, fired=5)
    assert json.loads(path.read_text()) == {
        "pid": os.getpid(), "alive_at": "2026-12-01T08:00:00.250Z", "last_fire": None,
        "next_fire": "2026-12-01T08:00:00.250Z", "fired": 5, "attention": 2, "backlog": 0,
        "healthy": True, "failing": {}, "unrecorded": 0}
    assert [p.name for p in path.parent.iterdir()] == ["heartbeat.json"]  # no temp file left
    assert path.stat().st_mode & 0o777 == 0o644  # a monitoring agent may be another user


def test_the_daemon_beats_and_reports_its_last_firing(tmp_path: Path, sandbox: Sandbox) -> None:
    rig = Rig(tmp_path, sandbox)
    rig.write(calendar([post("hb", soon(0.5), ["tw"])]))
    beat = tmp_path / "heartbeat.json"

    def fired() -> bool:
        if not beat.exists():
            return False
        data: dict[str, Any] = json.loads(beat.read_text())
        return data["last_fire"] is not None

    asyncio.run(rig.run(fired, heartbeat=beat, heartbeat_every=0.1))
    data = json.loads(beat.read_text())
    assert data["pid"] == os.getpid() and data["fired"] == 1 and data["attention"] == 0
    alive = datetime.fromisoformat(data["alive_at"])
    assert timedelta(0) <= datetime.now(UTC) - alive < timedelta(minutes=1)


def _ledger_with(path: Path, state: State) -> None:
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with SqliteLedger(path, clock=lambda: now) as ledger:
        ledger.claim(ClaimRequest("launch", "launch", "x", now, "twitter/post", "h", None))
        if state is State.RETRY_WAIT:
            ledger.finish("launch", "x", state, next_attempt=now + timedelta(seconds=30))
        else:
            ledger.finish("launch", "x", state, info="why")


@pytest.mark.parametrize(("state", "code"), [
    (State.SENT, 0), (State.RETRY_WAIT, 0), (State.UNKNOWN, 1), (State.FAILED, 1)])
def test_status_check_fails_only_when_a_human_is_needed(pushcal: Any, tmp_path: Path,
                                                         state: State, code: int) -> None:
    state_file = tmp_path / "ledger.sqlite"
    _ledger_with(state_file, state)
    run = pushcal(["status", "--check", "--state", str(state_file)])
    assert run.code == code, str(run)
    assert f"{state}: 1" in run.out, str(run)
    plain = pushcal(["status", "--state", str(state_file)])
    assert plain.code == 0, str(plain)


def test_a_reader_that_leaves_early_is_not_a_crash(tmp_path: Path) -> None:
    state_file = tmp_path / "ledger.sqlite"
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with SqliteLedger(state_file, clock=lambda: now) as ledger:
        for index in range(3000):  # more than a pipe buffer of history
            ledger.claim(ClaimRequest(f"k{index}", "e", "x", now, "twitter/post", "h", None))
    done = subprocess.run(
        f"{sys.executable} -m runner history --state {state_file} | head -1",
        shell=True, capture_output=True, text=True, check=False,
        executable="/bin/bash", env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.count("\n") == 1, done
    assert "unexpected error" not in done.stderr and "Traceback" not in done.stderr, done
