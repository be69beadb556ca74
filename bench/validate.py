"""Benchmark 1: `pushcal validate` against check-jsonschema, with libyaml as the floor.

A realistic calendar (10,000 entries in 50 files: several accounts and providers, media,
overrides, recurrences; all valid) is checked by (a) `pushcal validate DIR`, (b)
`check-jsonschema --schemafile schema/calendar.schema.json FILES...`, and loaded by (c) a bare
`yaml.load(..., Loader=yaml.CSafeLoader)` in the same interpreter, the floor any YAML tool
pays. Each is a fresh subprocess, run in rotation (so noise hits all alike), best of N.
Target: pushcal at least 2x faster than check-jsonschema. On a miss, or with `--profile`,
the validate run is profiled with cProfile and the top functions printed.

    /work/venv/bin/python bench/validate.py [--small] [--rounds N] [--profile]
"""

from __future__ import annotations

import argparse
import pstats
import sys
from datetime import datetime
from pathlib import Path

import calgen
import harness
import mixgen
from harness import REPO, Broken, Result
from procs import PYTHON, run_timed, timed_rounds

TARGET = 2.0  # check-jsonschema wall time / pushcal wall time, at least
BIN = Path(PYTHON).parent
FLOOR = "import sys, yaml\nfor p in sys.argv[1:]:\n    with open(p, 'rb') as f:\n" \
        "        yaml.load(f, Loader=yaml.CSafeLoader)\n"


def commands(folder: Path, files: list[Path]) -> dict[str, list[str]]:
    """The command lines compared, by name."""
    names = [str(p) for p in files]
    return {
        "pushcal validate DIR": [str(BIN / "pushcal"), "validate", str(folder)],
        "check-jsonschema": [str(BIN / "check-jsonschema"), "--schemafile",
                             str(REPO / "schema" / "calendar.schema.json"), *names],
        "libyaml load (floor)": [PYTHON, "-c", FLOOR, *names],
        "python start-up": [PYTHON, "-c", "pass"],
    }


def profile(folder: Path, out: Path, top: int = 25) -> None:
    """cProfile the whole `pushcal validate` process (imports included) and print the top."""
    stats_file = out / "validate.prof"
    done = run_timed([PYTHON, "-m", "cProfile", "-o", str(stats_file), "-m", "runner",
                      "validate", str(folder)])
    if done.returncode != 0:
        raise Broken(f"profiled validate exited {done.returncode}: {done.stderr[-500:]}")
    stats = pstats.Stats(str(stats_file), stream=sys.stdout)
    print(f"\nprofile of `pushcal validate` ({done.wall:.2f} s under cProfile), by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print("by cumulative time (runner, jsonschema, yaml):")
    stats.sort_stats("cumulative").print_stats(r"runner/|jsonschema/|yaml/", top)


def run(args: argparse.Namespace) -> Result:
    """Generate the calendar, time the commands, judge, profile on a miss."""
    files, entries = (5, 500) if args.small else (50, 10_000)
    rounds = args.rounds or (2 if args.small else 5)
    result = Result("validate")
    with harness.workdir("validate", args.keep) as work:
        cals, _ = mixgen.realistic(files, entries, datetime(2027, 1, 4), 360)
        folder = work / "calendar"
        paths = calgen.write(folder, cals)
        size = sum(p.stat().st_size for p in paths)
        print(f"calendar: {entries} entries {mixgen.kinds_count(cals)} in {files} files, "
              f"{size / 1e6:.1f} MB; best of {rounds}")
        runs = timed_rounds(commands(folder, paths), rounds)
        said = runs["pushcal validate DIR"][0].stdout.strip()
        if f"{entries} entries" not in said:
            raise Broken(f"pushcal validate did not see every entry: {said!r}")
        best = {name: min(r.wall for r in done) for name, done in runs.items()}
        cpu = {name: min(r.cpu for r in done) for name, done in runs.items()}
        ours = best["pushcal validate DIR"]
        rows = [(name, best[name], cpu[name], best[name] / ours) for name in runs]
        print(harness.table(("command", "best wall s", "best CPU s", "x pushcal"), rows))
        speedup = best["check-jsonschema"] / ours
        floor = best["libyaml load (floor)"]
        print(f"check-jsonschema / pushcal = {speedup:.2f}x (wall), "
              f"{cpu['check-jsonschema'] / cpu['pushcal validate DIR']:.2f}x (CPU); "
              f"pushcal / libyaml floor = {ours / floor:.2f}x")
        result.figures = {"files": files, "entries": entries, "bytes": size, "rounds": rounds,
                          "best_wall_s": best, "best_cpu_s": cpu, "speedup": speedup,
                          "over_floor": ours / floor, "pushcal_said": said}
        result.target(f"pushcal validate >= {TARGET:g}x faster than check-jsonschema "
                      f"(got {speedup:.2f}x)", speedup >= TARGET)
        if args.profile or not result.passed:
            profile(folder, work)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, help="runs of each command (best is kept)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of pushcal")
    sys.exit(harness.main(run, parser))
