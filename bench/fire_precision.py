"""Benchmark 3: how close to its time each occurrence reaches OneAll.

500 one-off posts at millisecond times spread over 30 s (`--small`: 50 over 5 s), to 20
accounts, published by `pushcal run --state TMP` (a subprocess, ONEALL_* pointing at the
sandbox, itself a separate process at zero latency). Afterwards the sandbox's records (`at`
= arrival, time.time()) give arrival - scheduled per occurrence. Baseline in the same run,
same offsets: a bare asyncio timer posting the same bodies with httpx, i.e. what this
machine's event loop, HTTP stack and sandbox allow at best. Targets: p50 <= 5 ms, p99 <= 25 ms.

    /work/venv/bin/python bench/fire_precision.py [--small]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import calgen
import harness
import httpx
from harness import Broken, Result, percentile
from procs import DaemonProcess, SandboxProcess

from runner.calendar import load
from runner.oneall import Credentials
from runner.oneall.render import render

P50_MS, P99_MS = 5.0, 25.0
ACCOUNTS = 20
Schedule = dict[str, float]  # entry id -> scheduled epoch seconds


def lateness(records: Sequence[dict[str, Any]], schedule: Schedule) -> list[float]:
    """Arrival - scheduled in ms for each scheduled post received exactly once."""
    counts = Counter(calgen.entry_id(r) for r in records)
    return [(r["at"] - schedule[i]) * 1000 for r in records
            if (i := calgen.entry_id(r)) in schedule and counts[i] == 1]


def stats(late: Sequence[float]) -> dict[str, float]:
    """n, p50, p99, max and min of a set of lateness figures (ms)."""
    if not late:
        return {"n": 0}
    return {"n": len(late), "p50": percentile(late, 50), "p99": percentile(late, 99),
            "max": max(late), "min": min(late)}


def offsets(count: int, span: float, seed: int = 3) -> list[float]:
    """Sorted offsets in seconds, to the millisecond, spread uniformly over `span`."""
    rng = random.Random(seed)
    return sorted(round(rng.uniform(0, span), 3) for _ in range(count))


def write_calendar(folder: Path, start: float, times: Sequence[float]) -> tuple[Path, Schedule]:
    """One post per offset from `start` (epoch s); returns the file and each id's epoch."""
    moments = [datetime.fromtimestamp(start + t, UTC) for t in times]
    cal = calgen.text_posts(calgen.accounts(ACCOUNTS), moments, "fire")
    (path,) = calgen.write(folder, [cal])
    schedule = {e["id"]: datetime.fromisoformat(e["at"].replace("Z", "+00:00")).timestamp()
                for e in cal.entries["posts"]}
    return path, schedule


def daemon_run(work: Path, sandbox: SandboxProcess, times: Sequence[float], lead: float,
               settle: float, env: dict[str, str] | None = None,
               daemons: list[DaemonProcess] | None = None) -> tuple[list[float], int, list[float]]:
    """Publish through `pushcal run` (with `env` added to its environment); (lateness ms,
    duplicates, the daemon's own late_ms). The daemon is appended to `daemons` if given."""
    path, schedule = write_calendar(work / "calendar", time.time() + lead, times)
    daemon = DaemonProcess([path], work / "ledger.sqlite", {**sandbox.env(), **(env or {})}).start()
    if daemons is not None:
        daemons.append(daemon)
    try:
        started, _ = daemon.wait_for("started", lead + 20)
        if started > min(schedule.values()):
            raise Broken(f"the daemon started {started - min(schedule.values()):.2f} s after the "
                         "first occurrence; give it more lead time")
        deadline = max(schedule.values()) + settle
        while time.time() < deadline and len(sandbox.received()) < len(schedule):
            time.sleep(0.25)
    finally:
        code = daemon.stop()
    if code != 0:
        raise Broken(f"pushcal run exited {code}: {daemon.tail()}")
    records = sandbox.received()
    late, dupes = lateness(records, schedule), calgen.duplicates(records)
    claimed = [float(e["late_ms"]) for e in daemon.named("delivered") if "late_ms" in e]
    return late, dupes, claimed


async def _floor(url: str, creds: Credentials, plan: Sequence[tuple[float, str, bytes]]) -> None:
    async with httpx.AsyncClient(base_url=url, auth=(creds.public_key, creds.private_key),
                                 trust_env=False,
                                 headers={"Content-Type": "application/json"}) as http:
        sends = []
        for when, path, body in plan:
            delay = when - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sends.append(asyncio.create_task(http.post(path, content=body)))
        answers = await asyncio.gather(*sends)
    refused = [a.status_code for a in answers if a.status_code != 200]
    if refused:
        raise Broken(f"the baseline's posts were refused: {Counter(refused)}")


def floor_run(work: Path, sandbox: SandboxProcess, times: Sequence[float]) -> list[float]:
    """The same offsets, sent by a bare asyncio timer with httpx."""
    path, schedule = write_calendar(work / "floor", time.time() + 1.0, times)
    cal = load([str(path)])
    plan = []
    for entry in cal.entries.values():
        (request,) = render(cal, entry, cal.accounts[entry.to[0]])
        plan.append((schedule[entry.id], request.path,
                     json.dumps(request.body, separators=(",", ":")).encode()))
    sandbox.reset()
    asyncio.run(_floor(sandbox.url, Credentials.from_env(sandbox.env()), sorted(plan)))
    return lateness(sandbox.received(), schedule)


def run(args: argparse.Namespace) -> Result:
    """Measure pushcal, then the bare timer, on the same offsets."""
    count, span, lead = (50, 5.0, 3.0) if args.small else (500, 30.0, 5.0)
    times = offsets(count, span)
    result = Result("fire_precision")
    with harness.workdir("fire_precision", args.keep) as work, SandboxProcess(work) as sandbox:
        late, dupes, claimed = daemon_run(work, sandbox, times, lead, settle=10.0)
        floor = floor_run(work, sandbox, times)
    ours, base = stats(late), stats(floor)
    claim = stats(claimed)
    rows = [("pushcal run (arrival - scheduled)", *_row(ours)),
            ("bare asyncio + httpx (baseline)", *_row(base)),
            ("pushcal claim lateness (its log)", *_row(claim))]
    print(f"{count} occurrences over {span:g} s to {ACCOUNTS} accounts, sandbox at zero latency")
    print(harness.table(("sender", "n", "p50 ms", "p99 ms", "max ms", "min ms"), rows))
    if ours["n"] and base["n"]:
        print(f"pushcal / baseline: p50 {ours['p50'] / max(base['p50'], 0.001):.2f}x, "
              f"p99 {ours['p99'] / max(base['p99'], 0.001):.2f}x")
    result.figures = {"count": count, "span_s": span, "pushcal": ours, "baseline": base,
                      "claim_late_ms": claim, "duplicates": dupes}
    result.target(f"every occurrence delivered once ({ours['n']:g}/{count}, {dupes} duplicates)",
                  ours["n"] == count and dupes == 0)
    if ours["n"]:
        result.target(f"p50 <= {P50_MS:g} ms (got {ours['p50']:.2f} ms)", ours["p50"] <= P50_MS)
        result.target(f"p99 <= {P99_MS:g} ms (got {ours['p99']:.2f} ms)", ours["p99"] <= P99_MS)
    return result


def _row(found: dict[str, float]) -> tuple[Any, ...]:
    keys = ("p50", "p99", "max", "min")
    return (int(found["n"]), *(found.get(k, "-") for k in keys))


if __name__ == "__main__":
    sys.exit(harness.main(run, harness.options(__doc__.split("\n")[0])))
