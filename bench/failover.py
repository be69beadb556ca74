"""Failover: the daemon that would send a post is SIGKILLed just before its time; how late is it?

Three `pushcal run` processes share one PostgreSQL ledger (a server this script starts) and
publish 60 posts (`--small`: 8), one every 2.5 s, to a sandbox process. Every daemon fires
every post and the claim picks the sender, so "the daemon that would send" is the one most
likely to win: the one that sent the previous post. 0.1 s before each post's time that
daemon is SIGKILLed (and a replacement started, which is not up in time for this post). The
delay is the sandbox's creation time minus the post's time; the bar is p99 <= 2 s. As the
same-run baseline, the first post of the run is sent with no daemon killed.

    /work/venv/bin/python bench/failover.py [--small] [--json PATH] [--keep]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import UTC, datetime

import calgen
import chaos
import harness
from harness import REPO, Broken, Result, percentile
from procs import DaemonProcess, SandboxProcess

sys.path.insert(0, str(REPO / "tests"))
import pg_server

SPACING_S = 2.5
KILL_BEFORE_S = 0.1


def sender_of(fleet: list[DaemonProcess], key: str) -> int:
    """The index of the daemon that logged delivering `key` (or 0)."""
    for index, daemon in enumerate(fleet):
        if any(e.get("key") == key and e.get("state") == "sent" for e in daemon.named("delivered")):
            return index
    return 0


def run(args: argparse.Namespace) -> Result:
    trials = 8 if args.small else 60
    result = Result("failover")
    server = pg_server.launch()
    try:
        url = server.new_database()
        with harness.workdir("failover", args.keep) as work, SandboxProcess(work) as sandbox:
            start = time.time() + 8.0
            due = [start + i * SPACING_S for i in range(trials + 1)]
            cal = calgen.text_posts(calgen.accounts(4), [datetime.fromtimestamp(t, UTC) for t in due],
                                    "fail")
            cal.grace = "1h"
            paths = calgen.write(work / "calendar", [cal])

            def launch() -> DaemonProcess:
                return DaemonProcess(paths, url, sandbox.env()).start()  # type: ignore[arg-type]

            fleet = [launch() for _ in range(3)]
            for daemon in fleet:
                daemon.wait_for("started", 60)
            retired: list[DaemonProcess] = []
            for index in range(1, trials + 1):
                time.sleep(max(0.0, due[index] - KILL_BEFORE_S - time.time()))
                victim = sender_of(fleet, f"fail-{index - 1:05d}")
                os.kill(fleet[victim].pid, signal.SIGKILL)
                fleet[victim].stop()
                retired.append(fleet[victim])
                fleet[victim] = launch()
            time.sleep(SPACING_S)
            for daemon in fleet:
                daemon.stop()
            records = chaos.received(sandbox.url)
    finally:
        server.cleanup()
    created = {calgen.entry_id(r): r["at"] for r in records if r["created"]}
    delays = [created[f"fail-{i:05d}"] - due[i] for i in range(1, trials + 1)
              if f"fail-{i:05d}" in created]
    missing = trials - len(delays)
    if not delays:
        raise Broken("no post arrived")
    baseline = created.get("fail-00000", float("nan")) - due[0]
    figures = {"trials": trials, "arrived": len(delays), "missing": missing,
               "p50_s": round(percentile(delays, 50), 3), "p99_s": round(percentile(delays, 99), 3),
               "max_s": round(max(delays), 3), "baseline_no_kill_s": round(baseline, 3),
               "duplicates": sum(r["duplicate_of"] is not None for r in records)}
    print(f"{trials} trials, the previous post's sender SIGKILLed {KILL_BEFORE_S} s before each"
          f" post: p50 {figures['p50_s']:.3f} s, p99 {figures['p99_s']:.3f} s, max"
          f" {figures['max_s']:.3f} s (same run, no kill: {figures['baseline_no_kill_s']:.3f} s)")
    result.target(f"every post arrived ({missing} missing)", missing == 0)
    result.target(f"p99 delay <= 2 s ({figures['p99_s']:.3f} s)", figures["p99_s"] <= 2.0)
    result.target(f"nothing posted twice ({figures['duplicates']})", figures["duplicates"] == 0)
    result.figures = figures
    return result


if __name__ == "__main__":
    raise SystemExit(harness.main(run, harness.options(__doc__.splitlines()[0])))
