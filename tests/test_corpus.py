"""The calendar checker's corpus: every valid calendar passes, every invalid one fails with
exactly the output recorded beside it.

Layout: `cases/valid/*.yaml`; `cases/invalid/NAME.yaml` (or a folder `cases/invalid/NAME/`
for problems across files) with `cases/invalid/NAME.out` holding the exact stdout of
`pushcal validate tests/cases/invalid/NAME.yaml`, run from the repository root.

To record outputs after a deliberate change of wording, str(run)

    PUSHCAL_REGEN=1 pytest tests/test_corpus.py

then read every changed `.out` in `git diff` before committing: each line must point at the
right place and say something a calendar author can act on. Without PUSHCAL_REGEN a missing
or different `.out` fails the test.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
REGEN = os.environ.get("PUSHCAL_REGEN") == "1"
PLACE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): ")
SUMMARY = re.compile(r"^pushcal: (\d+) problems? in (\d+) files?$")


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _invalid_cases() -> list[Path]:
    folder = CASES / "invalid"
    return sorted(p for p in folder.iterdir() if p.suffix == ".yaml" or p.is_dir())


def _validate(pushcal: Any, case: Path) -> Any:
    """`pushcal validate` on the case, by absolute path, shown as run from the root: the
    output must not depend on the directory pytest was started from."""
    run = pushcal(["validate", str(case)])
    prefix = f"{ROOT.as_posix()}/"
    return dataclasses.replace(run, out=run.out.replace(prefix, ""), err=run.err.replace(prefix, ""))


@pytest.mark.parametrize("case", sorted((CASES / "valid").glob("*.yaml")), ids=lambda p: p.stem)
def test_valid_calendar_passes(pushcal: Any, case: Path) -> None:
    run = _validate(pushcal, case)
    assert run.code == 0, str(run)
    # One-offs before the test's clock are warned about above the summary (test_past.py).
    assert run.out.splitlines()[-1].startswith("ok: 1 file, "), str(run)
    assert run.err == "", str(run)


@pytest.mark.parametrize("case", sorted((CASES / "valid").glob("*.yaml")), ids=lambda p: p.stem)
def test_valid_calendar_plans_a_year(pushcal: Any, case: Path, tmp_path: Path) -> None:
    """What validates must also expand and render: a checker that lets through what the
    planner chokes on is lying."""
    run = pushcal(["plan", str(case), "--from", "2026-11-01T00:00Z", "--to", "2027-11-01T00:00Z",
                   "--state", str(tmp_path / "none.sqlite")])
    assert (run.code, run.err) == (0, ""), str(run)
    assert run.out.splitlines()[-1].endswith("from 2026-11-01T00:00:00.000Z to 2027-11-01T00:00:00.000Z")


@pytest.mark.parametrize("case", _invalid_cases(), ids=lambda p: p.stem)
def test_invalid_calendar_fails_with_recorded_output(pushcal: Any, case: Path) -> None:
    run = _validate(pushcal, case)
    assert run.code == 1, str(run)
    assert "Traceback" not in run.err, str(run)
    expected = case.with_suffix(".out") if case.is_file() else case.parent / f"{case.name}.out"
    if REGEN:
        expected.write_text(run.out, encoding="utf-8")
    assert expected.exists(), f"no {_relative(expected)}; record it with PUSHCAL_REGEN=1\n{run}"
    assert run.out == expected.read_text(encoding="utf-8"), str(run)
    lines = run.out.splitlines()
    summary = SUMMARY.match(run.err.strip())
    assert summary is not None, str(run)
    assert int(summary.group(1)) == len(lines) >= 1, str(run)


@pytest.mark.parametrize("case", _invalid_cases(), ids=lambda p: p.stem)
def test_every_problem_points_at_a_place_in_the_case(pushcal: Any, case: Path) -> None:
    run = _validate(pushcal, case)
    for line in run.out.splitlines():
        place = PLACE.match(line)
        assert place is not None, f"no file:line:col: in {line!r}"
        assert place["file"].startswith(_relative(case)), line
        assert int(place["line"]) >= 1 and int(place["col"]) >= 1, line


def test_every_recorded_output_has_its_case() -> None:
    cases = {p.stem if p.is_file() else p.name for p in _invalid_cases()}
    outputs = {p.stem for p in (CASES / "invalid").glob("*.out")}
    assert outputs == cases


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(list((CASES / "valid").glob("*.yaml"))) >= 12
    assert len(_invalid_cases()) >= 45


def test_python_dash_m_runner_is_the_same_command() -> None:
    """One real process, run as documented, proves the entry point and the recorded paths."""
    case = "tests/cases/invalid/semantic-unknown-account.yaml"
    done = subprocess.run([sys.executable, "-m", "runner", "validate", case], cwd=ROOT,
                          capture_output=True, text=True, check=False, env=_child_env())
    assert done.returncode == 1, done
    assert done.stdout == (CASES / "invalid" / "semantic-unknown-account.out").read_text("utf-8")
    assert done.stderr == "pushcal: 1 problem in 1 file\n"


def _child_env() -> dict[str, str]:
    """The child's environment: enough to start Python, nothing of OneAll."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ONEALL_", "PUSHCAL_"))}
