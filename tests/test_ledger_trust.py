"""Issue 9, class 2: the ledger's own files deleted, truncated, replaced or reached twice.

A ledger that cannot be trusted stops pushcal with a message saying what happened and what
to do; it is never replaced by an empty one; locks follow the file, not the name.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import sqlite3
from datetime import UTC, datetime

import pytest
from daemon_kit import Rig, calendar, created, post, soon

from runner.daemon import Daemon
from runner.ledger import ClaimRequest, LedgerError, LedgerUntrusted, SqliteLedger, State
from runner.sandbox import Sandbox

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def request(key: str = "k") -> ClaimRequest:
    return ClaimRequest(key, "e", "tw", T0, "twitter/post", "h", None)


def sent(ledger: SqliteLedger, key: str = "k") -> None:
    assert ledger.claim(request(key)) is not None
    ledger.finish(key, "tw", State.SENT, remote_id="r1")


def test_a_second_daemon_through_a_symlink_or_a_hard_link_is_refused(
        tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ledger.sqlite"
    (tmp_path / "other").mkdir()
    with SqliteLedger(path, clock=lambda: T0) as first:
        first.acquire_daemon_lock()
        for alias in (tmp_path / "link.sqlite", tmp_path / "other" / "hard.sqlite"):
            if alias.name == "link.sqlite":
                alias.symlink_to(path)
            else:
                os.link(path, alias)
            # Through a hard link the pid file is another one: the holder is "unknown".
            holder = os.getpid() if alias.name == "link.sqlite" else "unknown"
            with SqliteLedger(alias, clock=lambda: T0) as second, \
                    pytest.raises(LedgerError, match=f"another pushcal daemon is running on"
                                                     f" {alias} \\(pid {holder}\\)"):
                second.acquire_daemon_lock()


def test_deleted_write_ahead_files_stop_the_owner_keep_its_records_and_refuse_others(
        tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ledger.sqlite"
    daemon = SqliteLedger(path, clock=lambda: T0)
    daemon.acquire_daemon_lock()
    sent(daemon)  # committed to the write-ahead log only
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink()
    with pytest.raises(LedgerUntrusted, match=r"ledger\.sqlite-wal was deleted") as refused:
        SqliteLedger(path, clock=lambda: T0)  # what `pushcal send` would have opened
    assert "a daemon is running on it" in str(refused.value)
    with pytest.raises(LedgerUntrusted, match=r"cannot be trusted: .*ledger.sqlite-wal was"
                                              r" deleted while pushcal was using it"):
        daemon.claim(request("k2"))
    with pytest.raises(LedgerUntrusted):  # for good, not only once
        daemon.get("k", "tw")
    daemon.close()
    with SqliteLedger(path, clock=lambda: T0) as after:
        row = after.get("k", "tw")
        assert row is not None and row.state is State.SENT  # saved before stopping
        assert after.get("k2", "tw") is None


def test_a_ledger_truncated_to_zero_bytes_is_refused_not_started_afresh(
        tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        ledger.acquire_daemon_lock()
        sent(ledger)
    os.truncate(path, 0)
    with pytest.raises(LedgerUntrusted, match=r"is empty \(0 bytes\) but pushcal has used it"):
        SqliteLedger(path, clock=lambda: T0)
    assert path.stat().st_size == 0  # left as found, for whoever restores it


def test_a_ledger_truncated_while_open_is_noticed(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        sent(ledger)
        os.truncate(path, 0)
        with pytest.raises(LedgerUntrusted, match=r"ledger\.sqlite was truncated to 0 bytes"):
            ledger.claim(request("k2"))


def test_a_ledger_replaced_while_open_is_noticed(tmp_path: pathlib.Path) -> None:
    path, other = tmp_path / "ledger.sqlite", tmp_path / "restored.sqlite"
    with SqliteLedger(other, clock=lambda: T0):
        pass
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        sent(ledger)
        os.replace(other, path)
        with pytest.raises(LedgerUntrusted, match=r"ledger\.sqlite was replaced by another file"):
            ledger.claim(request("k2"))


def test_a_running_daemon_whose_wal_is_deleted_stops_and_nothing_is_sent_twice(
        tmp_path: pathlib.Path) -> None:
    with Sandbox() as sandbox:
        rig = Rig(tmp_path, sandbox)
        rig.write(calendar([post("one", soon(0.3), ["tw"]), post("two", soon(1.5), ["tw"])]))
        refused: list[str] = []

        async def delete_wal(daemon: Daemon) -> None:
            while rig.rows().get(("one", "tw")) is None or rig.rows()[("one", "tw")].state \
                    is not State.SENT:
                await asyncio.sleep(0.05)
            for suffix in ("-wal", "-shm"):
                rig.state.with_name(rig.state.name + suffix).unlink()
            try:
                SqliteLedger(rig.state, clock=lambda: datetime.now(UTC))
            except LedgerUntrusted as error:
                refused.append(str(error))

        with pytest.raises(LedgerUntrusted, match="-wal was deleted"):
            asyncio.run(rig.run(lambda: False, script=delete_wal, timeout=10))
        assert refused and "a daemon is running on it" in refused[0]
        assert " fatal " in rig.logged()
        assert created(sandbox) == {("one", "tw"): 1}  # `two` was never claimed
        rows = rig.rows()
        assert rows[("one", "tw")].state is State.SENT and ("two", "tw") not in rows
        # A restart sends `two` once and `one` never again.
        asyncio.run(rig.run(rig.settled(("two", "tw")), timeout=10))
        assert created(sandbox) == {("one", "tw"): 1, ("two", "tw"): 1}


def test_the_cli_stops_with_the_message_and_exit_1(tmp_path: pathlib.Path) -> None:
    import subprocess
    import sys
    import time

    with Sandbox() as sandbox:
        rig = Rig(tmp_path, sandbox)
        rig.write(calendar([post("one", soon(3600), ["tw"])]))
        env = {**os.environ, **sandbox.env()}
        env.pop("PUSHCAL_STATE", None)
        log = tmp_path / "run.log"
        with log.open("w") as stream:
            child = subprocess.Popen(
                [sys.executable, "-m", "runner", "run", str(rig.path), "--state",
                 str(rig.state)], stderr=stream, stdout=subprocess.DEVNULL, env=env)
        try:
            wal = rig.state.with_name(rig.state.name + "-wal")
            deadline = time.monotonic() + 15
            while not wal.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            replacement = tmp_path / "new.sqlite"
            sqlite3.connect(replacement).close()
            os.replace(replacement, rig.state)
            code = child.wait(timeout=15)
        finally:
            if child.poll() is None:
                child.kill()
        err = log.read_text()
        assert code == 1
        assert err.splitlines()[-1] == (
            f"pushcal: ledger {rig.state} cannot be trusted: {rig.state} was replaced by another"
            " file while pushcal was using it; pushcal stopped so that nothing is sent twice or"
            " lost. Stop every pushcal on this ledger, put the original file back or restore it"
            " from a backup, check it with `pushcal status`, then start again")
        assert "Traceback" not in err
