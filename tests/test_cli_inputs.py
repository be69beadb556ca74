"""Everything a user can type is answered: one line, exit 1 or 2, never a traceback.

A table of bad values for every numeric option of every command; windows, paths and the
sandbox's own errors checked before work starts; Ctrl-C exits 130.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, RunPushcal
from daemon_kit import calendar, post

NUMBERS = ["0", "-1", "nan", "inf", "-inf", "1e400", "1e12", "abc", ""]
BAD = [  # (command line before the option, option, bad values)
    (["run", "CAL", "--rehearse", "--sandbox"], "--speed", NUMBERS),
    (["run", "CAL"], "--horizon", NUMBERS),
    (["run", "CAL"], "--read-timeout", NUMBERS),
    (["send", "CAL", "launch"], "--read-timeout", NUMBERS),
    (["check", "CAL"], "--read-timeout", NUMBERS),
    (["sandbox"], "--port", ["-1", "65536", "99999", "1.5", "abc", ""]),
    (["sandbox"], "--latency-ms", ["-1", "nan", "inf", "1e12", "abc"]),
    (["sandbox"], "--fail-rate", ["-0.1", "1.5", "nan", "inf", "abc"]),
    (["sandbox"], "--seed", ["-1", "abc", "1.5"]),
    (["sandbox"], "--host", ["8.8.8.8", "example.com", "0.0.0.0", ""]),
    (["validate", "CAL"], "--format", ["xml"]),
    (["plan", "CAL"], "--format", ["xml"]),
    (["plan", "CAL"], "--from", ["garbage", "2026-13-01", "2026-12-01 25:00"]),
    (["plan", "CAL"], "--to", ["garbage"]),
    (["history"], "--since", ["garbage", "2026-02-30"]),
    (["history"], "--format", ["xml"]),
    (["run", "CAL", "--rehearse", "--sandbox"], "--from", ["garbage"]),
    (["run", "CAL", "--rehearse", "--sandbox"], "--until", ["garbage", "2020-01-01T00:00Z"]),
    (["run", "CAL"], "--log-format", ["xml"]),
    (["run", "CAL"], "--ping-every", NUMBERS),
    (["agenda", "CAL"], "--from", ["garbage"]),
    (["agenda", "CAL"], "--color", ["pink"]),
    (["calendar", "CAL", "--ics", "OUT"], "--to", ["garbage"]),
]
CASES = [(head, option, value) for head, option, values in BAD for value in values]


@pytest.fixture
def cal(tmp_path: Path) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("launch", "2026-12-01 10:00", ["tw"])]))
    return path


@pytest.mark.parametrize(("head", "option", "value"), CASES,
                         ids=[f"{h[0]} {o} {v!r}" for h, o, v in CASES])
def test_every_bad_value_is_one_line_and_exit_1_or_2(pushcal: RunPushcal, cal: Path,
                                                     tmp_path: Path, head: list[str],
                                                     option: str, value: str) -> None:
    state = tmp_path / "ledger.sqlite"
    words = {"CAL": str(cal), "OUT": str(tmp_path / "feed.ics")}
    argv = [words.get(word, word) for word in head]
    run = pushcal([*argv, f"{option}={value}", "--state", str(state)]
                  if argv[0] not in ("sandbox", "validate") else [*argv, f"{option}={value}"])
    assert run.code in (1, 2), run
    assert len(run.err.splitlines()) == 1 and run.out == "", run
    assert "Traceback" not in run.err and option in run.err, run
    assert not state.exists()  # refused before any work


def test_a_bad_number_names_the_option_and_the_range(pushcal: RunPushcal, cal: Path) -> None:
    run = pushcal(["run", str(cal), "--rehearse", "--sandbox", "--speed", "nan"])
    assert (run.code, run.out) == (2, ""), run
    assert run.err == ("pushcal run: argument --speed: 'nan' is not a finite number (give a "
                       "number above 0 and at most 10,000,000) (see 'pushcal run --help')\n")
    port = pushcal(["sandbox", "--port", "99999"])
    assert port.err == ("pushcal sandbox: argument --port: '99999' is out of range (give a whole "
                        "number from 0 to 65535) (see 'pushcal sandbox --help')\n"), port


def test_a_wrong_option_shows_that_commands_usage(pushcal: RunPushcal, cal: Path) -> None:
    run = pushcal(["status", "--bogus"])
    assert run.code == 2, run
    assert run.err.startswith("usage: pushcal status [-h]"), run
    assert run.err.endswith("pushcal status: unrecognized arguments: --bogus "
                            "(see 'pushcal status --help')\n"), run


def test_until_before_from_is_refused(pushcal: RunPushcal, cal: Path, tmp_path: Path) -> None:
    run = pushcal(["run", str(cal), "--rehearse", "--sandbox", "--from", "2026-12-05 00:00",
                   "--until", "2026-12-01 00:00"])
    assert (run.code, run.out) == (2, ""), run
    assert run.err == ("pushcal: --until 2026-11-30T23:00:00.000Z is not after --from "
                       "(2026-12-04T23:00:00.000Z): give a later --until\n")


def test_a_heartbeat_that_cannot_be_written_is_refused_at_start(
        pushcal: RunPushcal, cal: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    state = tmp_path / "ledger.sqlite"
    run = pushcal(["run", str(cal), "--state", str(state), "--heartbeat",
                   str(blocker / "heartbeat.json")])
    assert (run.code, run.out) == (1, ""), run
    assert run.err == (f"pushcal: --heartbeat {blocker}/heartbeat.json: cannot write there "
                       f"({blocker} is not a directory); choose a file in a writable directory\n")
    assert not state.exists()
    proc = pushcal(["run", str(cal), "--state", str(state), "--heartbeat", "/proc/pushcal.json"])
    assert proc.code == 1 and proc.err.startswith("pushcal: --heartbeat /proc/pushcal.json: "
                                                  "cannot write there ("), proc


def test_a_sandbox_port_in_use_is_one_line(pushcal: RunPushcal) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = pushcal(["sandbox", "--port", str(port)])
    assert (run.code, run.out) == (1, ""), run
    assert run.err == (f"pushcal: sandbox: 127.0.0.1 port {port} is in use; pick another with "
                       "--port (0 picks a free one)\n")


def test_an_interrupted_rehearsal_says_so_and_exits_130(cal: Path, tmp_path: Path) -> None:
    cal.write_text(calendar([post("tip", "2026-12-01 10:00", ["tw"],
                                  repeat={"every": "day", "forever": True})]))
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "run", str(cal), "--rehearse", "--sandbox",
         "--from", "2026-12-01 00:00", "--until", "2027-12-01 00:00", "--speed", "3600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ONEALL_SUBDOMAIN": ""})
    try:
        deadline = time.monotonic() + 20
        assert process.stderr is not None
        for line in process.stderr:  # wait until it runs, then press Ctrl-C
            if " started " in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, (out, err)
    assert out.startswith("rehearsal interrupted at "), out
    assert "(virtual), before 2027-11-30T23:00:00.000Z: " in out, out


def test_an_interrupted_sandbox_exits_130() -> None:
    process = subprocess.Popen([sys.executable, "-m", "runner", "sandbox", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # it listens: now press Ctrl-C
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert first.startswith("OneAll sandbox listening on http://127.0.0.1:"), first
    assert (process.returncode, err) == (130, ""), (out, err)
    assert out.startswith("sandbox stopped: 0 push requests"), out


@pytest.mark.parametrize("head", [["send", "CAL", "launch", "--sandbox"], ["run", "CAL"]])
def test_a_ledger_that_cannot_be_written_is_refused_first(pushcal: RunPushcal, cal: Path,
                                                          tmp_path: Path, head: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = [str(cal) if word == "CAL" else word for word in head]
    run = pushcal([*argv, "--state", str(blocker / "ledger.sqlite")])
    assert (run.code, run.out) == (1, ""), run
    assert run.err == (f"pushcal: --state {blocker}/ledger.sqlite: cannot write there ({blocker} "
                       "is not a directory); choose a file in a writable directory\n"), run
