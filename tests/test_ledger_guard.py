"""Monitoring that cannot be fooled, and history a sandbox never touches.

Read-only commands (status, history, plan, check) never create or convert a file; a
missing ledger fails `status --check`; a sandbox or rehearsal never writes into a ledger
that holds real deliveries, and a real run never takes a sandbox's ledger for real history.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import RunPushcal
from daemon_kit import calendar, post

from runner.ledger import ClaimRequest, SqliteLedger, State

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def real_ledger(path: Path) -> None:
    with SqliteLedger(path, clock=lambda: AT) as ledger:
        ledger.claim(ClaimRequest("launch", "launch", "tw", AT, "twitter/post", "c0ffee", None))
        ledger.finish("launch", "tw", State.SENT, remote_id="1001")


@pytest.fixture
def cal(tmp_path: Path) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("launch", "2026-12-01 10:00", ["tw"])]))
    return path


def test_status_check_on_a_missing_ledger_fails(pushcal: RunPushcal, tmp_path: Path) -> None:
    typo = tmp_path / "ledgr.sqlite"
    run = pushcal(["status", "--check", "--state", str(typo)])
    assert (run.code, run.out) == (1, ""), run
    assert run.err == (f"pushcal: no ledger at {typo}: give the daemon's --state (status --check "
                       "fails on a missing ledger, so a typo cannot pass as healthy)\n")
    assert not typo.exists()


def test_read_only_commands_create_and_convert_nothing(pushcal: RunPushcal, cal: Path,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    ledger = folder / "ledger.sqlite"
    real_ledger(ledger)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert list(before) == ["ledger.sqlite"]
    for argv in (["status", str(cal)], ["status", "--check"], ["history"],
                 ["history", "--entry", "launch"], ["plan", str(cal)]):
        run = pushcal([*argv, "--state", str(ledger)])
        assert run.code == 0, run
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before, argv


def test_an_empty_or_foreign_file_is_named_not_turned_into_a_ledger(pushcal: RunPushcal,
                                                                    tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    run = pushcal(["status", "--state", str(empty)])
    assert (run.code, run.err) == (1, f"pushcal: no ledger at {empty}: the file is empty\n"), run
    assert empty.read_bytes() == b""
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    run = pushcal(["history", "--state", str(other)])
    assert run.err == (f"pushcal: {other} is not a pushcal ledger: it is another SQLite "
                       "database\n"), run


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """A directory nobody may create files in: chmod for a user; for root, who ignores file
    modes, the immutable attribute (chattr +i, on file systems that have it)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode:
        pytest.skip("no way to make a read-only directory for root here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_healthy_ledger_in_a_read_only_directory_is_read(pushcal: RunPushcal,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    real_ledger(folder / "ledger.sqlite")
    with read_only(folder):
        assert not os.access(folder, os.W_OK) or os.geteuid() == 0
        run = pushcal(["status", "--check", "--state", str(folder / "ledger.sqlite")])
        history = pushcal(["history", "--state", str(folder / "ledger.sqlite")])
    assert (run.code, run.err) == (0, ""), run
    assert run.out == f"ledger {folder}/ledger.sqlite: sent: 1\n", run
    assert history.out == "2026-11-28T09:00:00.000Z  launch -> tw  sent  1001\n", history
    assert [p.name for p in folder.iterdir()] == ["ledger.sqlite"]


@pytest.mark.parametrize("argv", [
    ["send", "CAL", "launch", "--sandbox"],
    ["run", "CAL", "--sandbox", "--rehearse", "--from", "2026-12-01 00:00"],
    ["run", "CAL", "--sandbox"],
])
def test_a_sandbox_never_writes_into_real_history(pushcal: RunPushcal, cal: Path,
                                                  tmp_path: Path, argv: list[str]) -> None:
    state = tmp_path / "ledger.sqlite"
    real_ledger(state)
    before = state.read_bytes()
    run = pushcal([str(cal) if word == "CAL" else word for word in argv] + ["--state", str(state)])
    assert (run.code, run.out) == (2, ""), run
    assert run.err == (f"pushcal: --state {state} holds real deliveries: a --sandbox or "
                       "--rehearse run never writes there; leave out --state for a throwaway "
                       "ledger, or give a new file\n")
    assert state.read_bytes() == before


def test_a_sandbox_ledger_is_marked_and_a_real_run_refuses_it(pushcal: RunPushcal, cal: Path,
                                                              tmp_path: Path) -> None:
    state = tmp_path / "try.sqlite"
    sent = pushcal(["send", str(cal), "launch", "--sandbox", "--state", str(state)])
    assert sent.code == 0, sent
    history = pushcal(["history", "--state", str(state)])
    assert history.out.splitlines()[0] == (
        f"sandbox ledger {state}: nothing in it was really published"), history
    assert '"sandbox": true' in pushcal(["history", "--state", str(state), "--format",
                                         "json"]).out
    status = pushcal(["status", "--state", str(state)])
    assert status.out == f"sandbox ledger {state}: sent: 1\n", status
    real = pushcal(["send", str(cal), "launch", "--force", "--state", str(state)])
    assert (real.code, real.err) == (2, (
        f"pushcal: --state {state} is a sandbox's ledger (nothing in it was really published): "
        "give the real ledger, or add --sandbox\n")), real
    again = pushcal(["send", str(cal), "launch", "--sandbox", "--state", str(state)])
    assert again.code == 1 and "already sent" in again.out, again  # a sandbox may reuse its own
