"""The chaos run, small: 60 posts, faults on a third of the requests, three SIGKILLs.

`bench/chaos.py --small` runs the daemon as real processes against a sandbox process, kills
and restarts it, then compares what the sandbox created with the ledger. Unlike a speed
benchmark its bar is correctness, so anything but exit 0 fails here. The full run (1,000
posts, ten kills) is in RELIABILITY.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_small_chaos_run_posts_nothing_twice_and_loses_nothing(tmp_path: Path) -> None:
    report = tmp_path / "chaos.json"
    done = subprocess.run([sys.executable, str(BENCH / "chaos.py"), "--small", "--json",
                           str(report)], capture_output=True, text=True, timeout=240,
                          check=False)
    shown = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, shown
    figures = json.loads(report.read_text())["figures"]
    assert (figures["kills"], figures["daemons"]) == (3, 4), shown
    assert sum(figures["states"].values()) == figures["posts"] == 60, shown
    assert figures["duplicates"] == figures["entries_created_twice"] == 0, shown
    assert figures["lost_without_record"] == [], shown
    assert figures["created_but_not_sent_or_unknown"] == [], shown
    assert "untraced" not in figures["unknown_causes"], shown
    # Every unknown and missed row was alerted, every alert signed, and no body held a key.
    told = figures["alerting"]
    assert told["rows_needing_alerts"] >= 3 and told["rows_never_alerted"] == [], shown
    assert told["bad_signatures"] == told["bodies_with_a_key"] == 0, shown
    assert figures["stale_states"] == {"missed": 3}, shown
    # The faults really happened: the sandbox turned requests away and refused connections.
    assert figures["faults"].get("503", 0) > 0 and figures["connections_refused"] > 0, shown
