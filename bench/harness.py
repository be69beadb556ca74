"""The frame every benchmark runs in: options, a work folder, the table, the verdict, the exit.

Each `bench/NAME.py` parses the same options (`--small`, `--json`, `--keep`), measures, prints a
Markdown table (pasteable into BENCHMARKS.md) and one PASS/FAIL line per target, and exits
0 when every target passed, 1 when one missed, 2 when the run itself broke (a tool failed,
posts went missing): a broken run says nothing about speed, so it must not pass for a FAIL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"  # git-ignored


class Broken(Exception):
    """The benchmark could not measure what it set out to (not a slow result: a wrong one)."""


@dataclass
class Result:
    """What a benchmark found: figures for `--json`, and its targets with their outcome."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[tuple[str, bool]] = field(default_factory=list)

    def target(self, text: str, passed: bool) -> None:
        """Record a target with its outcome; `text` carries the measured figure."""
        self.targets.append((text, passed))

    @property
    def passed(self) -> bool:
        """True when every target passed."""
        return all(ok for _, ok in self.targets)


def options(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes; scripts add their own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--small", action="store_true",
                        help="a tiny configuration that runs in seconds (the smoke test uses it)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the figures and verdicts as JSON")
    parser.add_argument("--keep", action="store_true",
                        help="keep generated inputs and logs under bench/out/ instead of a temp dir")
    return parser


@contextlib.contextmanager
def workdir(name: str, keep: bool) -> Iterator[Path]:
    """A fresh folder for generated calendars, ledgers and logs."""
    if keep:
        folder = OUT / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        yield folder
        print(f"inputs and logs kept in {folder}")
        return
    with tempfile.TemporaryDirectory(prefix=f"pushcal-bench-{name}-") as temp:
        yield Path(temp)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table with aligned columns."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of non-empty `values`."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def context() -> str:
    """What was measured, on what: the commit (and whether runner/ had uncommitted changes),
    the cores and the load, since the machine is shared and figures drift with it."""
    def git(*argv: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *argv], capture_output=True, text=True,
                              check=False)
        return done.stdout.strip()

    dirty = " + uncommitted changes in runner/" if git("status", "--porcelain", "runner") else ""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"pushcal at {git('rev-parse', '--short', 'HEAD') or 'unknown'}{dirty}; "
            f"{os.cpu_count()} cores, load average {load}; {time.strftime('%Y-%m-%d %H:%M %Z')}")


def main(run: Callable[[argparse.Namespace], Result], parser: argparse.ArgumentParser) -> int:
    """Parse options, run, print the verdicts, write `--json`; return the exit code."""
    args = parser.parse_args()
    where = context()
    print(where)
    try:
        result = run(args)
    except Broken as error:
        print(f"BROKEN: {error}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print("BROKEN: unexpected error (above)", file=sys.stderr)
        return 2
    for text, passed in result.targets:
        print(f"{'PASS' if passed else 'FAIL'}: {text}")
    if args.json:
        args.json.write_text(json.dumps({
            "name": result.name, "small": args.small, "passed": result.passed, "context": where,
            "targets": [{"target": t, "passed": p} for t, p in result.targets],
            "figures": result.figures}, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if result.passed else 1
