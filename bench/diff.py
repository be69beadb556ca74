"""Benchmark: `pushcal diff` of a pull request that edits one file of the 10,000-entry
calendar, against `pushcal validate` of the same calendar, timed in the same run.

The realistic calendar of bench/validate.py (10,000 entries in 50 files) is committed to a
fresh git repository; then one entry in one file is retimed and reworded in the working tree.
`pushcal diff HEAD DIR` (the base read from git, the head from disk, both expanded and
compared over 90 days) and `pushcal validate DIR` run as fresh subprocesses in rotation, best
of N. Target: diff at most 2x validate's wall time.

    .venv/bin/python bench/diff.py [--small] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import calgen
import harness
import mixgen
from harness import Broken, Result
from procs import PYTHON, timed_rounds

TARGET = 2.0  # diff wall time / validate wall time, at most
BIN = Path(PYTHON).parent
START = datetime(2027, 1, 4)
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def repository(work: Path, files: int, entries: int) -> tuple[Path, Path]:
    """A git repository holding the calendar, with one entry of one file edited on disk."""
    repo = work / "repo"
    cals, _ = mixgen.realistic(files, entries, START, 360)
    paths = calgen.write(repo / "calendar", cals)
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "calendar"]):
        subprocess.run(["git", *argv], cwd=repo, env=GIT_ENV, check=True)
    edited = paths[len(paths) // 2]
    text = edited.read_text("utf-8")
    # the first entry's time moves by an hour and its first message gains a word
    changed = re.sub(r'at: "(\d{4}-\d\d-\d\d) (\d\d):', lambda m: f'at: "{m[1]} {int(m[2]) % 23 + 1:02d}:',
                     text, count=1)
    changed = re.sub(r"message: ([\"']?)", r"message: \1Edited: ", changed, count=1)
    if changed == text:
        raise Broken(f"could not edit {edited}")
    edited.write_text(changed, "utf-8")
    return repo, edited


def run(args: argparse.Namespace) -> Result:
    """Build the repository, time both commands, judge."""
    files, entries = (5, 500) if args.small else (50, 10_000)
    rounds = args.rounds or (2 if args.small else 5)
    result = Result("diff")
    with harness.workdir("diff", args.keep) as work:
        repo, edited = repository(work, files, entries)
        folder = repo / "calendar"
        cmds = {
            "pushcal validate DIR": [str(BIN / "pushcal"), "validate", str(folder)],
            "pushcal diff HEAD DIR": [str(BIN / "pushcal"), "diff", "-C", str(repo), "HEAD",
                                      "calendar", "--from", "2027-01-04T00:00Z", "--to",
                                      "2028-01-04T00:00Z", "--format", "json"],
        }
        print(f"calendar: {entries} entries in {files} files, one entry of {edited.name} edited; "
              f"best of {rounds}")
        runs = timed_rounds(cmds, rounds)
        said = runs["pushcal diff HEAD DIR"][0].stdout
        changed = said.count('"key":')
        if changed == 0:
            raise Broken(f"pushcal diff found no change: {said[:400]!r}")
        best = {name: min(r.wall for r in done) for name, done in runs.items()}
        cpu = {name: min(r.cpu for r in done) for name, done in runs.items()}
        base = best["pushcal validate DIR"]
        print(harness.table(("command", "best wall s", "best CPU s", "x validate"),
                            [(name, best[name], cpu[name], best[name] / base) for name in runs]))
        ratio = best["pushcal diff HEAD DIR"] / base
        result.figures = {"files": files, "entries": entries, "rounds": rounds,
                          "best_wall_s": best, "best_cpu_s": cpu, "ratio": ratio,
                          "changes": changed}
        result.target(f"pushcal diff <= {TARGET:g}x pushcal validate (got {ratio:.2f}x)",
                      ratio <= TARGET)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, help="runs of each command (best is kept)")
    sys.exit(harness.main(run, parser))
