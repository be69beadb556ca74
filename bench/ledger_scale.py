"""Benchmark: the ledger at scale: 1,000,000 rows (a few years of a large account set).

A ledger is filled directly (one transaction): 2,000 daily-ish entries over three years on
25 accounts, 20 occurrences each: 1,000,000 rows and two events each (claimed, then mostly sent; a few failed,
missed or unknown). Then each command is timed as a fresh process, best of 3: `pushcal
status`, `pushcal history --entry ID` (one entry: 500 rows), `pushcal history --since` (the
last day), and the daemon's start on that ledger (launch -> its `started` line, a one-post
calendar). Baseline in the same run: `pushcal --help` (Python and the command line, no
ledger). Target: each within 1 s. `--small`: 20,000 rows. `--postgres`: the same on a
throwaway PostgreSQL server (tests/pg_server.py), filled with COPY.

    /work/venv/bin/python bench/ledger_scale.py [--small] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import calgen
import harness
from harness import REPO, Broken, Result
from procs import PUSHCAL, DaemonProcess, SandboxProcess, run_timed

from runner.ledger import SqliteLedger, State
from runner.ledger.location import DatabaseUrl
from runner.ledger.postgres import PostgresLedger
from runner.ledger.sqlite_rows import stamp

TARGET_S = 1.0
ACCOUNTS = 25
# One row in 10,000 each: what a person has not resolved yet.
RARE = {9997: State.FAILED, 9998: State.MISSED, 9999: State.UNKNOWN}


def generate(rows: int, now: datetime) -> tuple[str, Iterator[tuple[list[Any], list[Any]]]]:
    """An entry id to ask history about, and the rows (with two events each) in batches."""
    dates = 20  # occurrences per entry and account
    entries = rows // (dates * ACCOUNTS)
    step = timedelta(days=3 * 365) / (dates * entries)  # spread evenly: ~900 rows a day

    def batches() -> Iterator[tuple[list[Any], list[Any]]]:
        serial = 0
        for day in range(dates):
            for entry in range(entries):
                when = now - step * (dates * entries - (day * entries + entry))
                key, at = f"e{entry:04d}@{when:%Y-%m-%d}", stamp(when)
                batch, events = [], []
                for account in range(ACCOUNTS):
                    serial += 1
                    state = RARE.get(serial % 10_000, State.SENT)
                    name = f"acct-{account:02d}"
                    batch.append((key, f"e{entry:04d}", name, state.value, at, "twitter/post",
                                  1, at, at, None, f"1017{serial}", None, 200, "OK", "h", None,
                                  "{}"))
                    events += [(key, name, at, None, "sending", "claimed"),
                               (key, name, at, "sending", state.value, "OK")]
                yield batch, events
    return f"e{entries // 2:04d}", batches()


_DELIVERIES = ("key, entry, account, state, scheduled, endpoint, attempts, claimed, finished,"
               " next_attempt, remote_id, location, http_status, info, calendar_hash,"
               " git_commit, steps")
_EVENTS = "key, account, at, from_state, to_state, info"


def fill(path: Path, rows: int, now: datetime) -> str:
    """Write `rows` rows (and two events each) to an SQLite ledger; returns an entry id."""
    SqliteLedger(path, clock=lambda: now).close()
    entry, batches = generate(rows, now)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for batch, events in batches:
        conn.executemany(f"INSERT INTO deliveries ({_DELIVERIES}) VALUES ({', '.join('?' * 17)})",
                         batch)
        conn.executemany(f"INSERT INTO events ({_EVENTS}) VALUES (?, ?, ?, ?, ?, ?)", events)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return entry


def fill_postgres(url: str, rows: int, now: datetime) -> str:
    """The same rows in a PostgreSQL ledger (built by pushcal, filled with COPY)."""
    import psycopg

    PostgresLedger.open(DatabaseUrl(url), clock=lambda: now).close()  # type: ignore[union-attr]
    entry, batches = generate(rows, now)
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction(), conn.cursor() as cur, \
                cur.copy(f"COPY pushcal.deliveries ({_DELIVERIES}) FROM STDIN") as deliveries:
            pending = []
            for batch, events in batches:
                for row in batch:
                    deliveries.write_row(row)
                pending += events
        with conn.transaction(), conn.cursor() as cur, \
                cur.copy(f"COPY pushcal.events ({_EVENTS}) FROM STDIN") as copy:
            for event in pending:
                copy.write_row(event)
        conn.execute("ANALYZE pushcal.deliveries")
        conn.execute("ANALYZE pushcal.events")
    return entry


def daemon_start(work: Path, state: str, sandbox: SandboxProcess, now: datetime) -> float:
    """Launch -> `started` of `pushcal run` on the big ledger (nothing due meanwhile)."""
    cal = calgen.text_posts(calgen.accounts(1), [now + timedelta(days=3)], "later")
    (path,) = calgen.write(work / "calendar", [cal])
    daemon = DaemonProcess([path], state, sandbox.env()).start()  # type: ignore[arg-type]
    try:
        started, _ = daemon.wait_for("started", 120)
    finally:
        code = daemon.stop()
    if code != 0:
        raise Broken(f"pushcal run exited {code}: {daemon.tail()}")
    return started - daemon.launched


@contextlib.contextmanager
def ledger_at(work: Path, rows: int, now: datetime, postgres: bool) -> Iterator[tuple[str, str]]:
    """(the --state value, an entry id) of a filled ledger: an SQLite file, or a database on
    a throwaway PostgreSQL server (tests/pg_server.py) when `postgres`."""
    if not postgres:
        state = work / "ledger.sqlite"
        yield str(state), fill(state, rows, now)
        return
    sys.path.insert(0, str(REPO / "tests"))
    import pg_server

    server = pg_server.launch()
    try:
        url = server.new_database()
        yield url, fill_postgres(url, rows, now)
    finally:
        server.cleanup()


def run(args: argparse.Namespace) -> Result:
    """Fill, then time each reader and the daemon's start."""
    rows = 20_000 if args.small else 1_000_000
    now = datetime.now(UTC)
    since = stamp(now - timedelta(days=1))
    best: dict[str, float] = {}
    lines: dict[str, int] = {}
    with harness.workdir("ledger_scale", args.keep) as work, SandboxProcess(work) as sandbox, \
            ledger_at(work, rows, now, args.postgres) as (state, entry):
        commands = {
            "pushcal --help (baseline)": [*PUSHCAL, "--help"],
            "pushcal status": [*PUSHCAL, "status", "--state", state],
            f"pushcal history --entry {entry}": [*PUSHCAL, "history", "--entry", entry,
                                                 "--state", state],
            "pushcal history --since (1 day)": [*PUSHCAL, "history", "--since", since,
                                                "--state", state],
        }
        for _ in range(3):
            for name, argv in commands.items():
                done = run_timed(argv)
                if done.returncode != 0:
                    raise Broken(f"{name} exited {done.returncode}: {done.stderr[-300:]}")
                best[name] = min(best.get(name, float("inf")), done.wall)
                lines[name] = done.stdout.count("\n")
        best["pushcal run: launch -> started"] = min(
            daemon_start(work, state, sandbox, now) for _ in range(2))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}: {rows} rows, {2 * rows} events; best of 3 (the daemon: of 2)")
    print(harness.table(("command", "best wall s", "lines out"),
                        [(name, wall, lines.get(name, "-")) for name, wall in best.items()]))
    result = Result("ledger_scale")
    result.figures = {"rows": rows, "backend": backend, "best_wall_s": best, "lines": lines}
    for name, wall in best.items():
        if "baseline" not in name:
            result.target(f"{name} within {TARGET_S:g} s (got {wall:.3f} s)", wall <= TARGET_S)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--postgres", action="store_true",
                        help="the same ledger in PostgreSQL (a throwaway server, as the tests)")
    sys.exit(harness.main(run, parser))
