"""`pushcal run` as a real process: killed mid-send, restarted, stopped, reloaded by signal.

The child is `python -m runner run CAL --state LEDGER` with the sandbox's ONEALL_* variables;
the sandbox runs in this process, so what it created can be counted. The ledger is read from
here while the child writes it (SQLite WAL allows that), to know when sends are in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_kit import Rig, calendar, created, duplicates, post, soon

from runner.ledger import State
from runner.sandbox import SANDBOX_PRIVATE_KEY, Faults, Sandbox

WAIT = 15.0  # real seconds before a test gives up on something that should happen


class Child:
    """One `pushcal run` process, its log in a file."""

    def __init__(self, rig: Rig, name: str) -> None:
        self.log_path = rig.folder / f"{name}.log"
        self.out_path = rig.folder / f"{name}.out"
        env = {**os.environ, **rig.sandbox.env()}
        env.pop("PUSHCAL_STATE", None)
        with self.log_path.open("w") as log, self.out_path.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "runner", "run", str(rig.path), "--state", str(rig.state)],
                stdout=out, stderr=log, env=env, cwd=rig.folder)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_for_log(self, text: str) -> None:
        wait_until(lambda: text in self.log() or self.process.poll() is not None)
        assert text in self.log(), f"never logged {text!r}:\n{self.log()}"

    def signal(self, number: signal.Signals) -> int:
        """Send `number` and wait for the exit code."""
        self.process.send_signal(number)
        return self.process.wait(timeout=WAIT)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with Sandbox() as sandbox:
        yield Rig(tmp_path, sandbox)


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.end()


def in_state(rig: Rig, state: State) -> set[tuple[str, str]]:
    return {pair for pair, row in rig.rows().items() if row.state is state}


def test_killed_mid_send_and_restarted_nothing_is_posted_twice(rig: Rig,
                                                              children: list[Child]) -> None:
    alpha, omega = [("alpha", a) for a in ("page", "tw", "group")], [("omega", "page"),
                                                                       ("omega", "tw")]
    rig.write(calendar([post("alpha", soon(1.5), ["page", "tw", "group"]),
                        post("omega", soon(3.5), ["page", "tw"])]))
    rig.sandbox.set_faults(Faults(latency_ms=1500))
    first = Child(rig, "first")
    children.append(first)
    first.wait_for_log(" started ")
    wait_until(lambda: in_state(rig, State.SENDING) == set(alpha))

    first.process.kill()
    assert first.process.wait(timeout=WAIT) == -signal.SIGKILL
    assert in_state(rig, State.SENDING) == set(alpha)
    rig.sandbox.set_faults(Faults())
    second = Child(rig, "second")
    children.append(second)
    wait_until(rig.settled(*omega))
    assert second.signal(signal.SIGTERM) == 0

    rows = rig.rows()
    assert sorted(rows) == sorted(alpha + omega)
    assert {pair: rows[pair].state for pair in alpha} == dict.fromkeys(alpha, State.UNKNOWN)
    assert {pair: rows[pair].state for pair in omega} == dict.fromkeys(omega, State.SENT)
    log = second.log()
    assert SANDBOX_PRIVATE_KEY not in first.log() + log
    for entry, account in alpha:
        assert f"recovered entry={entry} account={account} key={entry} " in log
    # The sandbox finished the interrupted requests: they were posted, once, as `unknown` says.
    assert max(created(rig.sandbox).values()) == 1
    assert duplicates(rig.sandbox) == []


def test_sigterm_lets_sends_in_flight_finish_and_exits_0(rig: Rig, children: list[Child]) -> None:
    rig.write(calendar([post("alpha", soon(1), ["page", "tw"])]))
    rig.sandbox.set_faults(Faults(latency_ms=1000))
    child = Child(rig, "child")
    children.append(child)
    child.wait_for_log(" started ")
    wait_until(lambda: len(in_state(rig, State.SENDING)) == 2)

    assert child.signal(signal.SIGTERM) == 0

    assert in_state(rig, State.SENT) == {("alpha", "page"), ("alpha", "tw")}
    assert created(rig.sandbox) == Counter({("alpha", "page"): 1, ("alpha", "tw"): 1})
    log = child.log()
    assert " stopped sent=2" in log
    for account in ("page", "tw"):
        assert f" delivered entry=alpha account={account} key=alpha " in log


def test_an_invalid_calendar_exits_1_without_a_traceback(rig: Rig, children: list[Child]) -> None:
    rig.write(calendar([post("alpha", soon(60), ["page", "ghost"])]))
    child = Child(rig, "child")
    children.append(child)

    assert child.process.wait(timeout=WAIT) == 1

    out, err = child.out_path.read_text(), child.log()
    assert "Traceback" not in out + err
    assert out.startswith(f"{rig.path}:")
    assert "unknown account 'ghost'" in out
    assert err == "pushcal: 1 problem in 1 file\n"
    assert not rig.state.exists()


def test_sighup_reloads_the_calendar(rig: Rig, children: list[Child]) -> None:
    later = post("later", soon(3600), ["page"])
    rig.write(calendar([later]))
    child = Child(rig, "child")
    children.append(child)
    child.wait_for_log(" started ")
    child.process.send_signal(signal.SIGHUP)
    child.wait_for_log(" reloaded reason=SIGHUP entries=1 unchanged=True")

    rig.write(calendar([later, post("beta", soon(1.5), ["tw"])]))
    child.process.send_signal(signal.SIGHUP)
    child.wait_for_log(" reloaded reason=SIGHUP entries=2 ")
    wait_until(rig.settled(("beta", "tw")))
    assert child.signal(signal.SIGTERM) == 0

    assert rig.rows()[("beta", "tw")].state is State.SENT
    assert created(rig.sandbox) == Counter({("beta", "tw"): 1})
