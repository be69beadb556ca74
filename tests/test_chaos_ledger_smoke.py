"""The ledger chaos run, small: WAL deleted, disk full, lock held, reload races, 10 days down.

`bench/chaos_ledger.py --small` runs the daemon as real processes against a sandbox process;
its bar is correctness, so anything but exit 0 fails here. The full run is in RELIABILITY.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_small_ledger_chaos_run_holds_every_bar(tmp_path: Path) -> None:
    report = tmp_path / "chaos-ledger.json"
    done = subprocess.run([sys.executable, str(BENCH / "chaos_ledger.py"), "--small", "--json",
                           str(report)], capture_output=True, text=True, timeout=300,
                          check=False)
    shown = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, shown
    figures = json.loads(report.read_text())["figures"]
    race, down = figures["race"], figures["downtime"]
    assert race["wal_deleted_daemon_exit"] == 1, shown
    assert race["duplicates"] == race["entries_created_twice"] == 0, shown
    assert race["lost_without_record"] == race["texts_no_version_held"] == [], shown
    assert race["deleted_but_published"] == [], shown
    assert down["unrecorded"] == [] and down["beyond_7_day_lookback"] >= 3, shown
