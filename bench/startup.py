"""Benchmark: start-up: `pushcal validate` on a one-file calendar and `pushcal --help`.

Every command pays Python's start-up and its imports before it does anything, and the
pre-commit hook runs `pushcal validate` on every commit. Baselines in the same run: bare
`python -c pass`, and `python -c "import yaml, jsonschema"` (the libraries validate truly
needs). Each command is a fresh process, run in rotation, best of N wall time, after one
warm-up round that writes the bytecode caches an installed pushcal has. Target:
validate within 1.5x the bare imports. `--baseline-rev REV` also times validate at another
commit (a temporary `git worktree`, run through PYTHONPATH) in the same rotation; the target
then is: not slower than it. `--small`: 3 rounds.

    /work/venv/bin/python bench/startup.py [--small] [--rounds 15] [--baseline-rev 3d69dd0]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import harness
from harness import REPO, Broken, Result
from procs import PYTHON, run_timed

TARGET_VALIDATE = 1.5
ONE_FILE = """\
version: 1
timezone: Europe/Berlin
accounts:
  acme-x: {provider: twitter, identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}
posts:
  - id: launch
    at: 2026-12-01 09:00
    to: [acme-x]
    message: We are live.
"""


@contextlib.contextmanager
def checkout(rev: str | None) -> Iterator[Path | None]:
    """A temporary worktree of `rev` (removed afterwards), or None."""
    if rev is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="pushcal-startup-") as temp:
        where = Path(temp) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), rev],
                       check=True, capture_output=True)
        try:
            yield where
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)],
                           check=False, capture_output=True)


def commands(calendar: Path, old: Path | None, rev: str | None) -> dict[str, tuple[list[str],
                                                                             dict[str, str]]]:
    """name -> (argv, environment) of every command timed."""
    # As installed, every module has its bytecode cached: let the first (discarded) round
    # write it, even where the environment says not to (PYTHONDONTWRITEBYTECODE).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    found = {
        "python -c pass": ([PYTHON, "-c", "pass"], env),
        "python -c 'import yaml, jsonschema'": ([PYTHON, "-c", "import yaml, jsonschema"], env),
        "pushcal validate FILE": ([PYTHON, "-P", "-m", "runner", "validate", str(calendar)], env),
        "pushcal --help": ([PYTHON, "-P", "-m", "runner", "--help"], env),
    }
    if old is not None:
        found[f"pushcal validate FILE at {rev}"] = (
            [PYTHON, "-P", "-m", "runner", "validate", str(calendar)], {**env, "PYTHONPATH": str(old)})
    return found


def best(calendar: Path, rounds: int, old: Path | None, rev: str | None) -> dict[str, float]:
    """Best wall time of each command over `rounds` rotations."""
    timed = commands(calendar, old, rev)
    walls: dict[str, list[float]] = {name: [] for name in timed}
    for round_ in range(rounds + 1):
        for name, (argv, env) in timed.items():
            done = run_timed(argv, env)
            if done.returncode != 0:
                raise Broken(f"{name} exited {done.returncode}: {done.stderr[-300:]}")
            if round_:  # the first round only warms the caches
                walls[name].append(done.wall)
    return {name: min(values) for name, values in walls.items()}


def run(args: argparse.Namespace) -> Result:
    """Time every command in rotation; judge validate against the bare imports."""
    rounds = 3 if args.small else args.rounds
    with harness.workdir("startup", args.keep) as work, checkout(args.baseline_rev) as old:
        calendar = work / "calendar.yaml"
        calendar.write_text(ONE_FILE, encoding="utf-8")
        found = best(calendar, rounds, old, args.baseline_rev)
    floor = found["python -c 'import yaml, jsonschema'"]
    print(f"best of {rounds} rounds, each command a fresh process")
    print(harness.table(("command", "best wall s", "x imports"),
                        [(name, wall, wall / floor) for name, wall in found.items()]))
    result = Result("startup")
    result.figures = {"rounds": rounds, "best_wall_s": found}
    ratio = found["pushcal validate FILE"] / floor
    result.target(f"validate within {TARGET_VALIDATE:g}x the bare imports (got {ratio:.2f}x: "
                  f"{found['pushcal validate FILE']:.3f} s vs {floor:.3f} s)",
                  ratio <= TARGET_VALIDATE)
    if args.baseline_rev:
        before = found[f"pushcal validate FILE at {args.baseline_rev}"]
        now = found["pushcal validate FILE"]
        result.target(f"validate not slower than at {args.baseline_rev} (got {now:.3f} s vs "
                      f"{before:.3f} s: {now / before:.2f}x)", now <= before)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline-rev", metavar="REV",
                        help="also time validate at this commit, e.g. 3d69dd0 (before the rooms)")
    sys.exit(harness.main(run, parser))
