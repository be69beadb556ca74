"""`pushcal validate` on broken input: always a clean answer, never a crash.

The fuzzer (`bench/fuzz_checker.py`) runs a few hundred of its cases here (mutations of the
valid corpus and hypothesis-generated documents); the full run of over 10,000 is in
RELIABILITY.md. Crashes it found are kept below as exact reproductions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RunPushcal

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_a_few_hundred_fuzzed_calendars_get_a_clean_answer(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.json"
    done = subprocess.run([sys.executable, str(BENCH / "fuzz_checker.py"), "--small", "--seed",
                           "7", "--json", str(report)],
                          capture_output=True, text=True, timeout=240, check=False)
    shown = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    figures = json.loads(report.read_text())["figures"]
    assert figures["failures"] == [], shown
    assert figures["cases"] >= 300, shown
    # Both answers occur: the corpus' mutations are not all rejected, nor all accepted.
    assert set(figures["exit_codes"]) == {"0", "1"}, shown
    assert {"flip_bytes", "reshape", "hypothesis calendar", "hypothesis text"} <= set(
        figures["kinds"]), shown


# Found by the fuzzer: zoneinfo raises IsADirectoryError for a tzdata folder ('Europe') and
# OSError ENAMETOOLONG for a name over 255 bytes, which once escaped as exit 3.
@pytest.mark.parametrize("name", ["Europe", "a" * 256])
def test_a_zone_name_that_is_no_zone_file_is_a_problem_not_a_crash(
        pushcal: RunPushcal, tmp_path: Path, name: str) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(f"version: 1\ntimezone: {name}\n", encoding="utf-8")
    run = pushcal(["validate", str(path)])
    assert run.code == 1, run
    assert f"{path}:2:11: $.timezone: unknown time zone '{name}'" in run.out, run
