"""Benchmark 5: a calendar with 100,000 future occurrences, loaded, scheduled and reloaded.

A realistic calendar (one-offs over 380 days plus daily and weekly repetitions, 40 files)
with at least 100,000 occurrences, all within `--horizon 9600` hours (400 days), so every one
of them is scheduled. `pushcal run` runs as a subprocess (JSON logs on stderr) against the
sandbox (nothing falls due during the run). Measured: launch -> its "started" line; its peak
resident memory (VmHWM from /proc, read while it runs); and, after moving one entry by an
hour in its file, the file write -> its "reloaded" line. Baseline in the same run: the time
to just `pushcal validate` the same calendar. Commands keep their records in the work
directory (PUSHCAL_CACHE). Targets: started within 10 s, at most 500 MB
resident, reloaded within 2 s (with `--ten`: 400 MB and 1 s), and `plan` and `agenda` for a
week within 2 s once the files are recorded (the first `plan` records them). On a miss (or
with `--profile`) the daemon is run again under cProfile and the top functions are printed.

    /work/venv/bin/python bench/scale.py [--small] [--profile]
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import calgen
import harness
import mixgen
from harness import Broken, Result
from procs import PUSHCAL, PYTHON, DaemonProcess, SandboxProcess, peak_rss_mb, run_timed

from runner.calendar import build, expansion, load, schema
from runner.calendar import files as source

START_S, RSS_MB, RELOAD_S, VIEW_S = 10.0, 500.0, 2.0, 2.0
TEN_RSS_MB, TEN_RELOAD_S = 400.0, 1.0  # at ten times the size (--ten), the goals are tighter
HORIZON_H = 24 * 400  # the generated occurrences lie within it
RUN_HORIZON_H = 8760  # the longest horizon `pushcal run` takes: most of them are scheduled
_ONE_OFF = re.compile(r'^  - id: (f\d+)\n    at: "([^"]+)"\n    to:', re.MULTILINE)


def move_one_entry(path: Path) -> str:
    """Move the first one-off entry of a file one hour later (the file's only change)."""
    text = path.read_text(encoding="utf-8")
    for found in _ONE_OFF.finditer(text):
        after = text[found.end():found.end() + 400].split("\n  - id:")[0]
        if "repeat:" in after:
            continue
        moved = datetime.strptime(found.group(2), "%Y-%m-%d %H:%M") + timedelta(hours=1)
        head = text[:found.start(2)] + moved.strftime("%Y-%m-%d %H:%M")
        path.write_text(head + text[found.end(2):], encoding="utf-8")
        return found.group(1)
    raise Broken(f"no one-off entry to move in {path}")


def records_env(work: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with the checked files' records kept in the work directory."""
    return {**(base if base is not None else os.environ), "PUSHCAL_CACHE": str(work / "records")}


def daemon_run(work: Path, sandbox: SandboxProcess, folder: Path, paths: list[Path],
               argv_prefix: list[str] | None = None,
               horizon_hours: float = RUN_HORIZON_H) -> dict[str, Any]:
    """Start, measure start-up and memory, move one entry, measure the reload, stop."""
    daemon = DaemonProcess([folder], work / "ledger.sqlite", records_env(work, sandbox.env()),
                           horizon_hours=horizon_hours, prefix=argv_prefix).start()
    try:
        started, event = daemon.wait_for("started", 300)
        rss_started = peak_rss_mb(daemon.pid)
        time.sleep(1.5)  # the watcher's first snapshot must predate the edit
        seen = len(daemon.events)
        moved = move_one_entry(paths[-1])
        written = time.time()
        reloaded, reload_event = daemon.wait_for("reloaded", 120, after=seen)
        rss = max(rss_started, peak_rss_mb(daemon.pid))
    finally:
        code = daemon.stop()
    if code != 0:
        raise Broken(f"pushcal run exited {code}: {daemon.tail()}")
    if daemon.named("reload-rejected"):
        raise Broken(f"the edit was rejected: {daemon.named('problem')[:3]}")
    return {"start_s": started - daemon.launched, "jobs": event.get("jobs"),
            "entries": event.get("entries"), "peak_rss_mb": rss, "rss_at_start_mb": rss_started,
            "reload_s": reloaded - written, "jobs_touched": reload_event.get("jobs_touched"),
            "moved": moved}


def count_occurrences(folder: Path) -> int:
    """Occurrences the calendar has within 400 days, by the library's own expansion."""
    cal = load([str(folder)])
    now = datetime.now(UTC)
    return len(expansion.expand(cal, now, now + timedelta(hours=HORIZON_H)))


def week_views(work: Path, folder: Path, start: datetime) -> dict[str, float]:
    """Wall seconds of `plan` and `agenda` for the calendar's first busy week: `plan` once
    with no records (it checks every file and records them), then each with the records."""
    window = ["--from", f"{start:%Y-%m-%dT%H:%M}Z", "--to", f"{start + timedelta(days=7):%Y-%m-%dT%H:%M}Z"]
    found = {}
    for view, label in (("plan", "no records yet"), ("plan", "recorded"), ("agenda", "recorded")):
        done = run_timed([*PUSHCAL, view, str(folder), *window], env=records_env(work))
        if done.returncode != 0:
            raise Broken(f"pushcal {view} exited {done.returncode}: {done.stderr[-300:]}")
        found[f"pushcal {view}, one week, {label}"] = done.wall
    return found


def phases(folder: Path) -> list[tuple[str, float]]:
    """Seconds per stage of loading and expanding, in this process: where start-up and
    every reload spend their time before the scheduler is touched."""
    found = []
    clock = time.perf_counter()
    docs = source.load_all([str(folder)])
    found.append(("source.load_all (libyaml events, positions)", time.perf_counter() - clock))
    clock = time.perf_counter()
    for doc in docs:
        schema.validate(doc)
    found.append(("schema.validate, every file (jsonschema)", time.perf_counter() - clock))
    clock = time.perf_counter()
    cal = build.build(docs)
    found.append(("build.build (schema again, names, rules)", time.perf_counter() - clock))
    clock = time.perf_counter()
    now = datetime.now(UTC)
    expansion.expand(cal, now, now + timedelta(hours=HORIZON_H))
    found.append(("expansion.expand over the horizon", time.perf_counter() - clock))
    return found


def profile(work: Path, sandbox: SandboxProcess, folder: Path, paths: list[Path]) -> None:
    """The stages in-process, then the daemon under cProfile (main thread only: a reload's
    `load` runs in a worker thread and shows up as time in epoll)."""
    print("\nstages, in-process:")
    print(harness.table(("stage", "seconds"), phases(folder)))
    stats_file = work / "daemon.prof"
    daemon_run(work, sandbox, folder, paths,
               [PYTHON, "-m", "cProfile", "-o", str(stats_file), "-m", "runner"])
    stats = pstats.Stats(str(stats_file), stream=sys.stdout)
    print("\nprofile of the daemon (start, one reload, stop), by cumulative time:")
    stats.sort_stats("cumulative").print_stats(r"runner/|apscheduler/", 30)
    print("by own time:")
    stats.sort_stats("tottime").print_stats(15)


def run(args: argparse.Namespace) -> Result:
    """Generate, check the count, take the validate baseline, measure the daemon."""
    target, files = (2_000, 5) if args.small else (args.occurrences, args.files)
    rss_goal, reload_goal = (TEN_RSS_MB, TEN_RELOAD_S) if args.ten else (RSS_MB, RELOAD_S)
    result = Result("scale")
    with harness.workdir("scale", args.keep) as work, SandboxProcess(work) as sandbox:
        start = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=2)
        cals, made = mixgen.future(target, files, start, recurring=args.recurring)
        folder = work / "calendar"
        paths = calgen.write(folder, cals)
        occurrences = count_occurrences(folder)
        if occurrences != made:
            raise Broken(f"generated {made} occurrences but the calendar expands to {occurrences}")
        size = sum(p.stat().st_size for p in paths)
        validate = [run_timed([*PUSHCAL, "validate", str(folder)]) for _ in range(1 if args.small else 2)]
        if any(v.returncode != 0 for v in validate):
            raise Broken(f"pushcal validate failed: {validate[0].stdout[-500:]}")
        base = min(v.wall for v in validate)
        views = week_views(work, folder, start)
        found = daemon_run(work, sandbox, folder, paths, horizon_hours=args.horizon)
        if sandbox.received():
            raise Broken("something was sent during the run; the calendar must lie in the future")
        print(f"{occurrences} occurrences of {found['entries']} entries in {files} files "
              f"({size / 1e6:.1f} MB), {found['jobs']} scheduler jobs, horizon {args.horizon:g} h")
        rows = [("pushcal validate (baseline)", base, "-", 1.0),
                ("run: launch -> started, recorded", found["start_s"], found["rss_at_start_mb"],
                 found["start_s"] / base),
                ("run: edit -> reloaded", found["reload_s"], found["peak_rss_mb"],
                 found["reload_s"] / base),
                *((name, wall, "-", wall / base) for name, wall in views.items())]
        print(harness.table(("step", "seconds", "peak RSS MB", "x validate"), rows))
        result.figures = {"occurrences": occurrences, "files": files, "bytes": size,
                          "validate_s": base, "views_s": views, **found}
        result.target(f"started within {START_S:g} s (got {found['start_s']:.2f} s)",
                      found["start_s"] <= START_S)
        result.target(f"peak RSS <= {rss_goal:g} MB (got {found['peak_rss_mb']:.0f} MB)",
                      found["peak_rss_mb"] <= rss_goal)
        result.target(f"reloaded within {reload_goal:g} s of the edit "
                      f"(got {found['reload_s']:.2f} s)", found["reload_s"] <= reload_goal)
        for name, wall in views.items():
            if "no records" not in name:  # the first command after a change of every file
                result.target(f"{name} within {VIEW_S:g} s (got {wall:.2f} s)", wall <= VIEW_S)
        if args.profile or (not result.passed and not args.no_profile):
            profile(work, sandbox, folder, paths)
        elif not result.passed:
            print("\nstages, in-process:")
            print(harness.table(("stage", "seconds"), phases(folder)))
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the daemon")
    parser.add_argument("--no-profile", action="store_true",
                        help="on a miss, time the stages only (a cProfile of a large run is slow)")
    parser.add_argument("--occurrences", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--recurring", type=float, default=0.035,
                        help="the share of entries that repeat (40 times each)")
    parser.add_argument("--ten", action="store_true",
                        help="the goals at ten times the size: 400 MB resident, reloaded in 1 s")
    parser.add_argument("--horizon", type=float, default=RUN_HORIZON_H, metavar="HOURS",
                        help="the daemon's horizon (default: a year, the longest it takes)")
    sys.exit(harness.main(run, parser))
