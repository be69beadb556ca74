"""Chaos on a shared ledger: several `pushcal run` on one PostgreSQL, SIGKILLs, a server restart.

1,000 one-off posts (`--small`: 40) on 50 accounts (6), spread over 60 s (8 s), published by
three daemons (`--small`: two), real processes, on one PostgreSQL ledger (a server this
script starts, tests/pg_server.py), to a sandbox in its own process that answers 15% of the
pushes with 503 or 429 (Retry-After). Every ~10 s a random daemon is SIGKILLed and restarted
at once (`--small`: one kill); PostgreSQL itself is restarted once, mid-run (not with
`--small`). Grace is 1 h, so neither a kill nor the restart makes a post `missed`.

Every daemon posts its alerts to a loopback collector (as in bench/chaos.py), and three
posts are already hours past their grace (`missed`). At the end the sandbox's records are
compared with the ledger (bench/chaos.py's tally, alerts included):
duplicates, posts lost without a record, `sent` rows without a created post, every
`unknown` traced to a kill or the restart; and how late each post arrived after its time,
against the 2 s bar, for posts due while a daemon lived.

    /work/venv/bin/python bench/chaos_pg.py [--small] [--seed N] [--json PATH] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import calgen
import chaos
import harness
from harness import REPO, Broken, Result, percentile
from procs import DaemonProcess, SandboxProcess
from sinks import AlertSink

sys.path.insert(0, str(REPO / "tests"))
import pg_server


@dataclass(frozen=True)
class Plan:
    posts: int
    span_s: float
    accounts: int
    daemons: int
    kill_every_s: float
    restart_db: bool
    lead_s: float = 6.0
    settle_s: float = 120.0


FULL = Plan(posts=1000, span_s=60.0, accounts=50, daemons=3, kill_every_s=10.0, restart_db=True)
SMALL = Plan(posts=40, span_s=8.0, accounts=6, daemons=2, kill_every_s=0.0, restart_db=False,
             lead_s=4.0, settle_s=40.0)
STALE = 3  # posts already hours past their grace at the start: `missed`, and alerted
FAULTS = {"latency_ms": 20.0, "fail_rate": 0.15, "fail_codes": ["503", "503", "429"],
          "keep_alive": False}


class Fleet:
    """The daemons sharing the ledger; each slot's processes over the run."""

    def __init__(self, paths: list[Path], url: str, env: dict[str, str], count: int) -> None:
        self.paths, self.url, self.env = paths, url, env
        self.current = [self._start() for _ in range(count)]
        self.finished: list[DaemonProcess] = []
        self.kills: list[float] = []

    def _start(self) -> DaemonProcess:
        return DaemonProcess(self.paths, self.url, self.env).start()  # type: ignore[arg-type]

    def kill_one(self, rng: random.Random) -> None:
        slot = rng.randrange(len(self.current))
        victim = self.current[slot]
        os.kill(victim.pid, signal.SIGKILL)
        if victim.stop() != -signal.SIGKILL:
            raise Broken(f"a daemon did not die of SIGKILL: {victim.tail()}")
        self.kills.append(time.time())
        self.finished.append(victim)
        self.current[slot] = self._start()

    def stop(self, logs: Path) -> list[int]:
        codes = [daemon.stop() for daemon in self.current]
        self.finished += self.current
        for index, daemon in enumerate(self.finished):
            (logs / f"daemon-{index:02d}.log").write_text(
                "".join(json.dumps(event) + "\n" for _, event in daemon.events))
        return codes

    def named(self, name: str) -> list[dict[str, Any]]:
        # A dead peer's claim is reaped by a survivor, by its beat ("recovered") or by its
        # sweep ("orphaned"), whichever looks first: both are the kill's (or cut's) record.
        names = ("recovered", "orphaned") if name == "recovered" else (name,)
        return [e for daemon in self.finished for n in names for e in daemon.named(n)]


def tally_plan(plan: Plan, kills: int) -> chaos.Plan:
    """The shape bench/chaos.py's calendar and tally take."""
    return chaos.Plan(posts=plan.posts, span_s=plan.span_s, accounts=plan.accounts, kills=kills,
                      lead_s=plan.lead_s, settle_s=plan.settle_s, hang_s=0, refuse_s=0,
                      stale=STALE)


def unleash(plan: Plan, work: Path, url: str, server: pg_server.Server, sandbox: SandboxProcess,
            rng: random.Random, sink: AlertSink) -> tuple[Fleet, float | None]:
    first = time.time() + plan.lead_s
    paths, last = chaos.write_calendar(work / "calendar", tally_plan(plan, 0), rng)
    env = {**sandbox.env(), "PUSHCAL_NOTIFY_JSON": sink.url,
           "PUSHCAL_NOTIFY_SECRET": chaos.NOTIFY_SECRET}
    fleet = Fleet(paths, url, env, plan.daemons)
    for daemon in fleet.current:
        daemon.wait_for("started", 60)
    moments: list[tuple[float, str]] = []
    if plan.kill_every_s:
        at = first - 2.0
        while at < last + 2.0:
            at += rng.uniform(0.7, 1.3) * plan.kill_every_s
            moments.append((at, "kill"))
    else:
        moments.append((first + plan.span_s / 2, "kill"))
    if plan.restart_db:
        moments.append((first + plan.span_s * 0.45, "restart"))
    restarted = None
    for moment, what in sorted(moments):
        time.sleep(max(0.0, moment - time.time()))
        if what == "kill":
            fleet.kill_one(rng)
        else:
            restarted = time.time()
            server.restart()
    deadline = last + plan.settle_s
    while time.time() < deadline and not (time.time() > last and
                                          chaos.settled(url, plan.posts + STALE)):  # type: ignore[arg-type]
        time.sleep(0.5)
    codes = fleet.stop(work)
    if any(codes):
        raise Broken(f"daemons exited {codes} on SIGTERM")
    return fleet, restarted


def arrival(records: list[dict[str, Any]], due: dict[str, float]) -> dict[str, float]:
    """Seconds from each post's time to the sandbox creating it (first creation)."""
    first: dict[str, float] = {}
    for record in records:
        entry = calgen.entry_id(record)
        if record["created"] and entry and entry not in first:
            first[entry] = record["at"] - due[entry]
    return first


def run(args: argparse.Namespace) -> Result:
    plan = SMALL if args.small else FULL
    rng = random.Random(args.seed)
    result = Result("chaos_pg")
    server = pg_server.launch()
    try:
        url = server.new_database()
        with (harness.workdir("chaos_pg", args.keep) as work, SandboxProcess(work) as sandbox,
              AlertSink(secret=chaos.NOTIFY_SECRET.encode()) as sink):
            chaos.set_faults(sandbox.url, {**FAULTS, "seed": args.seed})
            fleet, restarted = unleash(plan, work, url, server, sandbox, rng, sink)
            chaos.set_faults(sandbox.url, {})
            records = chaos.received(sandbox.url)
            shape = tally_plan(plan, len(fleet.kills))
            figures = chaos.tally(url, records, fleet, shape)  # type: ignore[arg-type]
            figures["alerting"] = chaos.alert_tally(
                url, sink, [sandbox.env()["ONEALL_PRIVATE_KEY"], chaos.NOTIFY_SECRET,  # type: ignore[arg-type]
                            pg_server.PASSWORD])
            due = {row["entry"]: chaos._at(row["scheduled"])
                   for row in chaos.ledger_rows(url)  # type: ignore[arg-type]
                   if row["entry"].startswith("chaos-")}
    finally:
        server.cleanup()
    late = arrival(records, due)
    first_try = {calgen.entry_id(r) for r in records if r["created"] and r["fault"] is None}
    retried = {calgen.entry_id(r) for r in records if r["fault"] in ("503", "429")}
    clean = [late[e] for e in late if e not in retried and e in first_try]
    figures.update({
        "daemons_at_once": plan.daemons, "db_restarted": restarted is not None,
        "arrival_s_clean": {"n": len(clean), "p50": round(percentile(clean, 50), 3),
                            "p99": round(percentile(clean, 99), 3), "max": round(max(clean), 3)}
        if clean else {},
        "clean_over_2s": sorted(e for e in late if e not in retried and late[e] > 2.0),
        "clean_over_2s_unexplained": sorted(
            e for e in late if e not in retried and late[e] > 2.0
            and not any(-1.0 <= due[e] - at <= 10.0 for at in [*fleet.kills, restarted or 0.0])),
        "faults_drawn": dict(Counter(r["fault"] or "none" for r in records)),
    })
    figures["plan"] = asdict(plan)
    figures["seed"] = args.seed
    chaos.report(figures, result)
    arrived = figures["arrival_s_clean"]
    if arrived:
        print(f"posts not retried, due -> created: p50 {arrived['p50']:.3f} s, p99 "
              f"{arrived['p99']:.3f} s, max {arrived['max']:.3f} s over {arrived['n']}")
    unexplained = figures["clean_over_2s_unexplained"]
    result.target("every post not retried arrived within 2 s of its time, or fell due just as a"
                  f" daemon or the database went down ({len(figures['clean_over_2s'])} later,"
                  f" {len(unexplained)} of them unexplained)", not unexplained)
    result.figures = figures
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    raise SystemExit(harness.main(run, parser))
