"""The SQLite ledger's own ground: its file, its lock files, files that are not ledgers.

What every backend must do is in test_ledger_contract.py; these are real SQLite files under
tmp_path with an injected clock, and real processes for the locks.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pathlib
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest
from ledger_kit import T0, Clock, claim, clock

from runner.ledger import LedgerError, SqliteLedger, State

__all__ = ["clock"]  # a fixture, imported to be found


@pytest.fixture
def path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "state" / "ledger.sqlite"


@pytest.fixture
def ledger(path: pathlib.Path, clock: Clock) -> Iterator[SqliteLedger]:
    with SqliteLedger(path, clock=clock) as opened:
        yield opened


def test_a_new_ledger_creates_its_directory_and_starts_empty(ledger: SqliteLedger,
                                                            path: pathlib.Path) -> None:
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir() if ".new" in p.name] == []  # no drafts left
    assert ledger.counts() == dict.fromkeys(State, 0)
    assert ledger.rows() == []
    assert ledger.history() == []


def test_recover_waits_for_a_hand_send_in_flight(path: pathlib.Path, clock: Clock) -> None:
    # `pushcal send` holds its row in `sending` while the request is out; a daemon starting
    # at that moment must not take it for a crash's leftover.
    with SqliteLedger(path, clock=clock) as sender, SqliteLedger(path, clock=clock) as daemon:
        daemon.acquire_daemon_lock()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            with sender.hold_for_sending():
                assert claim(sender) is not None
                recovering = pool.submit(daemon.recover)
                time.sleep(0.3)  # long enough for a recover that does not wait to finish
                assert not recovering.done()
                sender.finish("launch", "acme-page", State.SENT, remote_id="42")
            assert recovering.result(timeout=10) == []
        row = daemon.get("launch", "acme-page")
        assert row is not None and (row.state, row.remote_id) == (State.SENT, "42")


# --- the daemon lock ------------------------------------------------------------------------


def test_a_second_daemon_is_refused_until_the_first_closes(path: pathlib.Path,
                                                           clock: Clock) -> None:
    first = SqliteLedger(path, clock=clock)
    first.acquire_daemon_lock()
    first.acquire_daemon_lock()  # holding it already is fine
    with SqliteLedger(path, clock=clock) as second:
        message = f"another pushcal daemon is running on {path} (pid {os.getpid()})"
        with pytest.raises(LedgerError) as refused:
            second.acquire_daemon_lock()
        assert str(refused.value) == message
        first.close()
        second.acquire_daemon_lock()
        second.recover()


def _hold_lock_forever(path: pathlib.Path, ready: Any) -> None:
    ledger = SqliteLedger(path, clock=lambda: T0)
    ledger.acquire_daemon_lock()
    ready.set()
    threading.Event().wait()  # until killed


def test_a_killed_daemon_releases_the_lock(path: pathlib.Path, clock: Clock) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_hold_lock_forever, args=(path, ready), daemon=True)
    child.start()
    try:
        assert ready.wait(timeout=120), "the child never took the lock"
        with SqliteLedger(path, clock=clock) as ledger:
            with pytest.raises(LedgerError, match=f"\\(pid {child.pid}\\)$"):
                ledger.acquire_daemon_lock()
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            child.join()
            assert child.exitcode == -signal.SIGKILL
            ledger.acquire_daemon_lock()
    finally:
        if child.is_alive():
            child.kill()
            child.join()


# --- files that are not ledgers ---------------------------------------------------------------


def _foreign_sqlite(path: pathlib.Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()


def _damaged_ledger(path: pathlib.Path) -> None:
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        claim(ledger)
    data = bytearray(path.read_bytes())
    data[16:100] = b"\xff" * 84  # the header after the magic string: page size and the rest
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_text("posts:\n  - id: launch\n"), "it is not an SQLite database"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50), "damaged"),
    (_foreign_sqlite, "it is another SQLite database"),
    (_damaged_ledger, "damaged"),
], ids=["yaml", "truncated", "foreign", "damaged"])
def test_a_file_that_is_not_a_ledger_is_refused_and_left_alone(
        tmp_path: pathlib.Path, make: Callable[[pathlib.Path], None], reason: str) -> None:
    path = tmp_path / "ledger.sqlite"
    make(path)
    before = path.read_bytes()
    others = sorted(tmp_path.iterdir())
    with pytest.raises(LedgerError, match=f"^{re.escape(str(path))} is not a pushcal ledger.*{reason}"):
        SqliteLedger(path, clock=lambda: T0)
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == others


def test_a_directory_is_not_a_ledger(tmp_path: pathlib.Path) -> None:
    with pytest.raises(LedgerError, match="it is not a file"):
        SqliteLedger(tmp_path, clock=lambda: T0)


def test_an_empty_file_becomes_a_ledger(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.touch()
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        assert claim(ledger) is not None




def _plan_of_last_activity(path: pathlib.Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return " ".join(str(row[-1]) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT MAX(at) FROM events"))


def test_the_last_record_is_found_by_index_in_new_and_older_ledgers(path: pathlib.Path,
                                                                      clock: Clock) -> None:
    with SqliteLedger(path, clock=clock) as ledger:
        claim(ledger)
    assert "events_at" in _plan_of_last_activity(path)
    with closing(sqlite3.connect(path)) as conn:  # as a ledger written before the index
        conn.execute("DROP INDEX events_at")
        conn.commit()
    assert "events_at" not in _plan_of_last_activity(path)
    with SqliteLedger(path, clock=clock) as ledger:  # a writable open adds it
        assert ledger.last_activity() == clock.now
    assert "events_at" in _plan_of_last_activity(path)
