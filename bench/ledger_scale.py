"""Benchmark: the ledger at scale: 1,000,000 rows (a few years of a large account set).

A ledger is filled directly (one transaction): 2,000 daily-ish entries over three years on
25 accounts, 20 occurrences each: 1,000,000 rows and two events each (claimed, then mostly sent; a few failed,
missed or unknown). Then each command is timed as a fresh process, best of 3: `pushcal
status`, `pushcal history --entry ID` (one entry: 500 rows), `pushcal history --since` (the
last day), and the daemon's start on that ledger (launch -> its `started` line, a one-post
calendar). Baseline in the same run: `pushcal --help` (Python and the command line, no
ledger). Target: each within 1 s. `--small`: 20,000 rows.

    /work/venv/bin/python bench/ledger_scale.py [--small]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import calgen
import harness
from harness import Broken, Result
from procs import PUSHCAL, DaemonProcess, SandboxProcess, run_timed

from runner.ledger import SqliteLedger, State
from runner.ledger.sqlite_rows import stamp

TARGET_S = 1.0
ACCOUNTS = 25
# One row in 10,000 each: what a person has not resolved yet.
RARE = {9997: State.FAILED, 9998: State.MISSED, 9999: State.UNKNOWN}


def fill(path: Path, rows: int, now: datetime) -> str:
    """Write `rows` rows (and two events each); returns an entry id to ask history about."""
    SqliteLedger(path, clock=lambda: now).close()
    dates = 20  # occurrences per entry and account
    entries = rows // (dates * ACCOUNTS)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    serial = 0
    step = timedelta(days=3 * 365) / (dates * entries)  # spread evenly: ~900 rows a day
    for day in range(dates):
        for entry in range(entries):
            when = now - step * (dates * entries - (day * entries + entry))
            key, at = f"e{entry:04d}@{when:%Y-%m-%d}", stamp(when)
            batch, events = [], []
            for account in range(ACCOUNTS):
                serial += 1
                state = RARE.get(serial % 10_000, State.SENT)
                batch.append((key, f"e{entry:04d}", f"acct-{account:02d}", state.value, at,
                              "twitter/post", 1, at, at, None, f"1017{serial}", None, 200,
                              "OK", "h", None, "{}"))
                events += [(key, f"acct-{account:02d}", at, None, "sending", "claimed"),
                           (key, f"acct-{account:02d}", at, "sending", state.value, "OK")]
            conn.executemany(
                "INSERT INTO deliveries (key, entry, account, state, scheduled, endpoint,"
                " attempts, claimed, finished, next_attempt, remote_id, location, http_status,"
                " info, calendar_hash, git_commit, steps)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            conn.executemany("INSERT INTO events (key, account, at, from_state, to_state, info)"
                             " VALUES (?, ?, ?, ?, ?, ?)", events)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return f"e{entries // 2:04d}"


def daemon_start(work: Path, state: Path, sandbox: SandboxProcess, now: datetime) -> float:
    """Launch -> `started` of `pushcal run` on the big ledger (nothing due meanwhile)."""
    cal = calgen.text_posts(calgen.accounts(1), [now + timedelta(days=3)], "later")
    (path,) = calgen.write(work / "calendar", [cal])
    daemon = DaemonProcess([path], state, sandbox.env()).start()
    try:
        started, _ = daemon.wait_for("started", 120)
    finally:
        code = daemon.stop()
    if code != 0:
        raise Broken(f"pushcal run exited {code}: {daemon.tail()}")
    return started - daemon.launched


def run(args: argparse.Namespace) -> Result:
    """Fill, then time each reader and the daemon's start."""
    rows = 20_000 if args.small else 1_000_000
    now = datetime.now(UTC)
    since = stamp(now - timedelta(days=1))
    with harness.workdir("ledger_scale", args.keep) as work, SandboxProcess(work) as sandbox:
        state = work / "ledger.sqlite"
        entry = fill(state, rows, now)
        size = state.stat().st_size
        commands = {
            "pushcal --help (baseline)": [*PUSHCAL, "--help"],
            "pushcal status": [*PUSHCAL, "status", "--state", str(state)],
            f"pushcal history --entry {entry}": [*PUSHCAL, "history", "--entry", entry,
                                                 "--state", str(state)],
            "pushcal history --since (1 day)": [*PUSHCAL, "history", "--since", since,
                                                "--state", str(state)],
        }
        best: dict[str, float] = {}
        lines: dict[str, int] = {}
        for _ in range(3):
            for name, argv in commands.items():
                done = run_timed(argv)
                if done.returncode != 0:
                    raise Broken(f"{name} exited {done.returncode}: {done.stderr[-300:]}")
                best[name] = min(best.get(name, float("inf")), done.wall)
                lines[name] = done.stdout.count("\n")
        best["pushcal run: launch -> started"] = min(
            daemon_start(work, state, sandbox, now) for _ in range(2))
    print(f"{rows} rows, {2 * rows} events, {size / 1e6:.0f} MB; best of 3 (the daemon: of 2)")
    print(harness.table(("command", "best wall s", "lines out"),
                        [(name, wall, lines.get(name, "-")) for name, wall in best.items()]))
    result = Result("ledger_scale")
    result.figures = {"rows": rows, "bytes": size, "best_wall_s": best, "lines": lines}
    for name, wall in best.items():
        if "baseline" not in name:
            result.target(f"{name} within {TARGET_S:g} s (got {wall:.3f} s)", wall <= TARGET_S)
    return result


if __name__ == "__main__":
    sys.exit(harness.main(run, harness.options(__doc__.split("\n")[0])))
