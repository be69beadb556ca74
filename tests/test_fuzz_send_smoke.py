"""The send fuzzer, small: calendars that validate also plan, render and send cleanly.

`bench/fuzz_send.py --small` mutates the valid corpus, keeps what validates, and plans and
delivers each to a loopback sandbox; any exception fails it. The full count is in
RELIABILITY.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_small_send_fuzz_finds_no_exception(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.json"
    done = subprocess.run([sys.executable, str(BENCH / "fuzz_send.py"), "--small", "--json",
                           str(report)], capture_output=True, text=True, timeout=240,
                          check=False)
    shown = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, shown
    figures = json.loads(report.read_text())["figures"]
    assert figures["counts"]["sent"] > 0 and figures["failures"] == [], shown
