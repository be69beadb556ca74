"""Benchmark: a quiet idle: the daemon on a calendar of 2,000 files, doing nothing for 60 s.

`pushcal run` (a subprocess, nothing due during the run) watches a calendar of 2,000 files.
Measured: the CPU seconds it uses (user + system, from /proc) over 60 s once started, against
an idle `python -c "import time; time.sleep(60)"` measured over the same 60 s beside it; then
an edit of one file, timed from the write to the daemon's `reloaded` line. Targets: at most
2% of one core while idle, the edit reloaded within 1 s. `--small`: 50 files, 5 s idle.

    /work/venv/bin/python bench/idle.py [--small] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import calgen
import harness
import mixgen
from harness import Broken, Result
from procs import PYTHON, DaemonProcess, SandboxProcess
from scale import move_one_entry

CPU_SHARE, RELOAD_S = 0.02, 1.0
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def run(args: argparse.Namespace) -> Result:
    """Idle the daemon and the sleeping baseline side by side, then time one edit."""
    files, seconds = (50, 5.0) if args.small else (2000, args.seconds)
    result = Result("idle")
    with harness.workdir("idle", args.keep) as work, SandboxProcess(work) as sandbox:
        start = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=3)
        cals, made = mixgen.future(10 * files, files, start)
        folder = work / "calendar"
        paths = calgen.write(folder, cals)
        daemon = DaemonProcess([folder], work / "ledger.sqlite", sandbox.env()).start()
        try:
            daemon.wait_for("started", 300)
            time.sleep(2.0)  # start-up's own work (the first snapshot, the first roll) is over
            sleeper = subprocess.Popen([PYTHON, "-c", f"import time; time.sleep({seconds + 5})"])
            time.sleep(0.5)  # its own start-up is not idling
            ours, theirs, began = cpu_seconds(daemon.pid), cpu_seconds(sleeper.pid), time.time()
            time.sleep(seconds)
            ours = cpu_seconds(daemon.pid) - ours
            theirs = cpu_seconds(sleeper.pid) - theirs
            idled = time.time() - began
            sleeper.kill()
            sleeper.wait()
            seen = len(daemon.events)
            moved = move_one_entry(paths[len(paths) // 2])
            written = time.time()
            reloaded, event = daemon.wait_for("reloaded", 60, after=seen)
        finally:
            code = daemon.stop()
        if code != 0:
            raise Broken(f"pushcal run exited {code}: {daemon.tail()}")
    share = ours / idled
    print(f"{made} occurrences in {files} files; idle for {idled:.1f} s")
    print(harness.table(("process", "CPU s while idle", "share of one core"), [
        ("pushcal run", ours, f"{share:.2%}"),
        ("python -c 'time.sleep' (baseline)", theirs, f"{theirs / idled:.2%}")]))
    print(f"edit ({moved} moved an hour) -> reloaded: {reloaded - written:.3f} s, "
          f"{event.get('entries_changed')} entries changed")
    result.figures = {"files": files, "idle_s": idled, "cpu_s": ours, "baseline_cpu_s": theirs,
                      "share": share, "reload_s": reloaded - written,
                      "entries_changed": event.get("entries_changed")}
    result.target(f"idle CPU at most {CPU_SHARE:.0%} of one core (got {share:.2%}; "
                  f"baseline {theirs / idled:.2%})", share <= CPU_SHARE)
    result.target(f"an edit reloaded within {RELOAD_S:g} s (got {reloaded - written:.3f} s)",
                  reloaded - written <= RELOAD_S)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to idle")
    sys.exit(harness.main(run, parser))
