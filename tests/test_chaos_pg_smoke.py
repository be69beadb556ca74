"""The shared-ledger chaos run, small: two daemons on one PostgreSQL, 40 posts, one SIGKILL.

`bench/chaos_pg.py --small` runs the daemons as real processes against a sandbox process
that refuses 15% of the pushes with 503/429, kills one daemon mid-run and restarts it, then
compares what the sandbox created with the ledger. The full run (three daemons, 1,000
posts, a kill every ~10 s, PostgreSQL restarted) is in RELIABILITY.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pg_server import Server

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_two_daemons_on_one_database_post_each_once_through_a_kill(tmp_path: Path,
                                                                  pg_server: Server) -> None:
    del pg_server  # only asked for so a machine without PostgreSQL skips (or CI fails) clearly
    report = tmp_path / "chaos.json"
    done = subprocess.run([sys.executable, str(BENCH / "chaos_pg.py"), "--small", "--json",
                           str(report)], capture_output=True, text=True, timeout=240, check=False)
    shown = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, shown
    figures = json.loads(report.read_text())["figures"]
    assert (figures["kills"], figures["daemons"], figures["daemons_at_once"]) == (1, 3, 2), shown
    assert sum(figures["states"].values()) == figures["posts"] == 40, shown
    assert figures["stale_states"] == {"missed": 3}, shown
    assert figures["alerting"]["rows_never_alerted"] == [], shown
    assert figures["alerting"]["bodies_with_a_key"] == 0, shown
    assert figures["duplicates"] == figures["entries_created_twice"] == 0, shown
    assert figures["lost_without_record"] == [], shown
    assert figures["sent_without_a_created_id"] == [], shown
    assert "untraced" not in figures["unknown_causes"], shown
    assert figures["faults"].get("503", 0) > 0, shown
