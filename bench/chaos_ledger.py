"""Chaos run for the ledger and reloads (issue 9): faults in the daemon's own files and edits.

One sandbox process, one ledger, `pushcal run` as real processes. Posts (`--small`: 40,
full: 240) spread over the run, to four accounts, grace 1 h. While they go out:

1. **WAL deleted**: `-wal` and `-shm` are deleted under the running daemon. It must stop by
   itself (exit 1, "cannot be trusted"); it is restarted at once.
2. **Disk full**: the ledger lives on a small tmpfs (`mount -t tmpfs`, needs root) that a
   filler file fills for `full_s` seconds; without root, RLIMIT_FSIZE is lowered on the
   daemon (prlimit) for as long, the closest real fault: every write fails with EFBIG.
3. **Lock held**: another process holds the ledger's write lock (BEGIN IMMEDIATE) for
   `lock_s`, longer (full run) than the 30 s a write waits.
4. **Reload races**: the calendar is rewritten `rounds` times, every future post's text
   tagged with the version, half by rename and half in place (truncate, half, a pause, the
   rest), with a SIGHUP after each; one version deletes posts for good.

Then a second ledger is started **after 10 days of downtime** (its last record 10 days ago,
a daily repeat since 12 days ago): every day must end in a row.

Bars: 0 duplicates, 0 posts lost without a record, 0 published texts that no calendar
version held at that moment (a version holds from its writing until the next one is
settled, plus a second), 0 deleted posts published after their deletion, every day of the
downtime recorded.

    /work/venv/bin/python bench/chaos_ledger.py [--small] [--seed N] [--json PATH] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import calgen
import harness
from chaos import ledger_rows, received
from harness import REPO, Result
from procs import DaemonProcess, SandboxProcess

OPEN = ("planned", "sending", "retry_wait")


@dataclass(frozen=True)
class Plan:
    posts: int
    span_s: float
    full_s: float  # disk full this long
    lock_s: float  # the write lock held this long
    rounds: int  # calendar versions written during the reload races
    settle_s: float


FULL = Plan(posts=240, span_s=150.0, full_s=5.0, lock_s=35.0, rounds=12, settle_s=120.0)
SMALL = Plan(posts=40, span_s=40.0, full_s=3.0, lock_s=3.0, rounds=6, settle_s=60.0)


def document(accounts: list[calgen.Account], times: list[float], version: int,
             deleted: set[int]) -> dict[str, Any]:
    posts = []
    for index, moment in enumerate(times):
        if index in deleted:
            continue
        acct = accounts[index % len(accounts)]
        entry = {"id": f"race-{index:05d}", "to": [acct.name],
                 "at": calgen.utc_stamp(datetime.fromtimestamp(moment, UTC)),
                 "message": f"Race post id=race-{index:05d} version {version} " + "x" * 200}
        if acct.provider == "linkedin":
            entry["link"] = f"https://example.com/{index}"
        posts.append(entry)
    return {"version": 1, "timezone": "UTC", "grace": "1h",
            "accounts": {a.name: a.yaml() for a in accounts}, "posts": posts}


class Versions:
    """Every calendar version written, with when it was written and what it said."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written: list[tuple[float, dict[str, str]]] = []

    def write(self, doc: dict[str, Any], atomic: bool) -> None:
        text = json.dumps(doc, indent=1)
        began = time.time()
        if atomic:
            temp = self.path.with_name(".next.yaml")
            temp.write_text(text)
            os.replace(temp, self.path)
        else:  # as a careless editor saves: truncate, half, a pause, the rest
            with self.path.open("w") as stream:
                stream.write(text[: len(text) // 2])
                stream.flush()
                time.sleep(0.15)
                stream.write(text[len(text) // 2:])
        self.written.append((began, {p["id"]: p["message"] for p in doc["posts"]}))

    def held(self, entry: str, text: str, at: float, margin: float) -> bool:
        """Whether a version that held this text for this entry was live at `at`."""
        for index, (since, texts) in enumerate(self.written):
            until = (self.written[index + 1][0] if index + 1 < len(self.written)
                     else float("inf")) + margin
            if since <= at <= until and texts.get(entry) == text:
                return True
        return False


@dataclass
class LedgerFs:
    """Where the ledger lives: a small tmpfs when we may mount one, else a plain folder."""

    folder: Path
    mounted: bool = False

    def __enter__(self) -> LedgerFs:
        self.folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs",
                               str(self.folder)], capture_output=True, check=False)
        self.mounted = done.returncode == 0
        return self

    def __exit__(self, *exc: object) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)

    def fill(self, pid: int, seconds: float) -> str:
        """Make the ledger's writes fail for `seconds`; returns how."""
        if self.mounted:
            filler = self.folder / "filler"
            with filler.open("wb") as stream:
                try:
                    while True:
                        stream.write(b"\0" * 65536)
                        stream.flush()
                except OSError:
                    pass
            time.sleep(seconds)
            filler.unlink()
            return "tmpfs full (ENOSPC)"
        limit = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, limit[1]))
        time.sleep(seconds)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)
        return "RLIMIT_FSIZE (EFBIG)"


def hold_lock(state: Path, seconds: float) -> None:
    conn = sqlite3.connect(state, isolation_level=None, timeout=60)
    conn.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def race_phase(plan: Plan, work: Path, sandbox: SandboxProcess,
               rng: random.Random) -> dict[str, Any]:
    accounts = calgen.accounts(4)
    start = time.time() + 4.0
    times = sorted(start + rng.uniform(0, plan.span_s) for _ in range(plan.posts))
    calendar = work / "calendar" / "race.yaml"
    calendar.parent.mkdir(parents=True)
    versions = Versions(calendar)
    versions.write(document(accounts, times, 0, set()), atomic=True)
    fs = LedgerFs(work / "ledgerfs")
    with fs:
        state = fs.folder / "ledger.sqlite"
        env = sandbox.env()
        daemons = [DaemonProcess([calendar], state, env).start()]
        daemons[0].wait_for("started", 60)
        at = {name: start + plan.span_s * share for name, share in
              (("wal", 0.15), ("full", 0.35), ("lock", 0.5), ("race", 0.65))}
        facts: dict[str, Any] = {"disk_full_by": None}

        time.sleep(max(0.0, at["wal"] - time.time()))
        for suffix in ("-wal", "-shm"):
            state.with_name(state.name + suffix).unlink(missing_ok=True)
        facts["wal_deleted_daemon_exit"] = _exit_code(daemons[-1], 30)
        facts["wal_deleted_message"] = next(
            (str(e.get("text", "")) for e in reversed(daemons[-1].tail(3))
             if "cannot be trusted" in str(e.get("text", ""))), "")
        daemons.append(DaemonProcess([calendar], state, env).start())
        daemons[-1].wait_for("started", 60)

        time.sleep(max(0.0, at["full"] - time.time()))
        facts["disk_full_by"] = fs.fill(daemons[-1].pid, plan.full_s)

        time.sleep(max(0.0, at["lock"] - time.time()))
        locker = threading.Thread(target=hold_lock, args=(state, plan.lock_s))
        locker.start()

        time.sleep(max(0.0, at["race"] - time.time()))
        deleted: set[int] = set()
        future = [i for i, t in enumerate(times) if t > time.time() + 3]
        for version in range(1, plan.rounds + 1):
            if version == plan.rounds // 2 and future:
                deleted |= set(rng.sample(future, max(1, len(future) // 10)))
                facts["deleted_at"] = time.time()
            versions.write(document(accounts, times, version, deleted), atomic=version % 2 == 0)
            os.kill(daemons[-1].pid, signal.SIGHUP)
            time.sleep(rng.uniform(0.05, 0.6))
        locker.join()

        deadline = times[-1] + plan.settle_s
        while time.time() < deadline:
            rows = ledger_rows(state)
            if time.time() > times[-1] and len(rows) >= plan.posts and not any(
                    r["state"] in OPEN for r in rows):
                break
            time.sleep(1.0)
        facts["last_daemon_exit"] = daemons[-1].stop()
        rows = ledger_rows(state)
    records = received(sandbox.url)
    facts.update(tally(records, rows, versions, plan, deleted, facts.get("deleted_at", 0.0)))
    facts["claim_failed_events"] = sum(len(d.named("claim-failed")) for d in daemons)
    facts["daemons"] = len(daemons)
    facts["ledger_on_tmpfs"] = fs.mounted
    return facts


def _exit_code(daemon: DaemonProcess, within: float) -> int | None:
    """The exit code of a daemon that should stop by itself; None if it had to be stopped."""
    assert daemon._proc is not None
    try:
        code = daemon._proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        daemon.stop()
        return None
    daemon.stop()  # reaps the log reader
    return code


def tally(records: list[dict[str, Any]], rows: list[dict[str, Any]], versions: Versions,
          plan: Plan, deleted: set[int], deleted_at: float) -> dict[str, Any]:
    created = [r for r in records if r["created"]]
    per_entry = Counter(calgen.entry_id(r) for r in created)
    by_entry = {r["entry"]: r for r in rows}
    gone = {f"race-{i:05d}" for i in deleted}
    stale, after_delete = [], []
    for record in created:
        entry = calgen.entry_id(record) or "?"
        text = _message(record.get("body"))
        if not versions.held(entry, text, record["at"], margin=1.0):
            stale.append(entry)
        if entry in gone and record["at"] > deleted_at + 1.0:
            after_delete.append(entry)
    expected = [f"race-{i:05d}" for i in range(plan.posts)]
    return {
        "posts": plan.posts, "versions_written": len(versions.written),
        "duplicates": sum(r["duplicate_of"] is not None for r in records),
        "entries_created_twice": sum(c > 1 for c in per_entry.values()),
        "lost_without_record": [e for e in expected if e not in by_entry
                                or by_entry[e]["state"] in OPEN],
        "texts_no_version_held": stale, "deleted_but_published": after_delete,
        "states": dict(Counter(r["state"] for r in rows)),
    }


def _message(body: Any) -> str:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("message", "text") and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(body)
    return found[0] if found else ""


def downtime_phase(work: Path, sandbox: SandboxProcess) -> dict[str, Any]:
    """A ledger whose last record is 10 days old, a daily repeat since 12 days ago."""
    now = datetime.now(UTC)
    first = now - timedelta(days=12)
    accounts = calgen.accounts(1)
    folder = work / "down"
    folder.mkdir()
    calendar = folder / "daily.yaml"
    calendar.write_text(json.dumps({
        "version": 1, "timezone": "UTC", "accounts": {a.name: a.yaml() for a in accounts},
        "posts": [{"id": "daily", "at": calgen.utc_stamp(first), "to": [accounts[0].name],
                   "message": "Daily post id=daily", "repeat": {"every": "day",
                                                                "forever": True}}]}))
    state = folder / "ledger.sqlite"
    last_seen = now - timedelta(days=10, hours=1)
    subprocess.run([sys.executable, "-c", (
        "import sys; from datetime import datetime; from pathlib import Path;"
        "from runner.ledger import SqliteLedger, State;"
        "t = datetime.fromisoformat(sys.argv[2]);"
        "l = SqliteLedger(Path(sys.argv[1]), clock=lambda: t);"
        "l.mark('other', entry='other', account='x', scheduled=t, endpoint='',"
        " state=State.CANCELLED, info='cancelled'); l.close()"),
        str(state), last_seen.isoformat()], check=True, cwd=REPO)
    days = [first + timedelta(days=n) for n in range(13) if first + timedelta(days=n) < now]
    due = [d for d in days if d > last_seen]
    daemon = DaemonProcess([calendar], state, sandbox.env()).start()
    daemon.wait_for("started", 60)
    deadline = time.time() + 60
    rows: list[dict[str, Any]] = []
    while time.time() < deadline:
        rows = [r for r in ledger_rows(state) if r["entry"] == "daily"]
        if len(rows) >= len(due):
            break
        time.sleep(0.5)
    daemon.stop()
    keys = {r["key"] for r in rows}
    unrecorded = [f"daily@{d.date().isoformat()}" for d in due
                  if f"daily@{d.date().isoformat()}" not in keys]
    return {"days_down": 10, "occurrences_while_down": len(due),
            "beyond_7_day_lookback": sum(d < now - timedelta(days=7) for d in due),
            "recorded": len(due) - len(unrecorded), "unrecorded": unrecorded,
            "states": dict(Counter(r["state"] for r in rows))}


def run(args: argparse.Namespace) -> Result:
    plan = SMALL if args.small else FULL
    rng = random.Random(args.seed)
    result = Result("chaos_ledger")
    work: Path
    with harness.workdir("chaos-ledger", args.keep) as work, SandboxProcess(work) as sandbox:
        race = race_phase(plan, work, sandbox, rng)
        down = downtime_phase(work, sandbox)
    figures = {"plan": asdict(plan), "seed": args.seed, "race": race, "downtime": down}
    result.figures.update(figures)
    print(json.dumps(figures, indent=2))
    result.target("the daemon stops by itself when its -wal is deleted (exit 1)",
                  race["wal_deleted_daemon_exit"] == 1)
    result.target("0 duplicates", race["duplicates"] == race["entries_created_twice"] == 0)
    result.target("0 lost without a record", race["lost_without_record"] == [])
    result.target("0 texts no calendar version held at that moment",
                  race["texts_no_version_held"] == [])
    result.target("0 deleted posts published", race["deleted_but_published"] == [])
    result.target("every occurrence of 10 days down recorded", down["unrecorded"] == [])
    return result


def main() -> int:
    parser = harness.options(__doc__ or "")
    parser.add_argument("--seed", type=int, default=1, help="seeds post times and races")
    return harness.main(run, parser)


if __name__ == "__main__":
    raise SystemExit(main())
