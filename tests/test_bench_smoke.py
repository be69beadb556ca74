"""Each benchmark still runs: `bench/NAME.py --small`, end to end, in seconds.

Speed is the benchmarks' business, never a test's: a benchmark may report FAIL (exit 1) on a
busy machine and this test still passes. What it checks is that the run worked: exit 0 or
1, never 2 ("broken"), and the figures it wrote with `--json` show the work was really done
(every post delivered once, every entry validated, the reload seen).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _validate(figures: dict[str, Any]) -> None:
    assert figures["pushcal_said"].startswith("ok: 5 files, 500 entries")
    assert set(figures["best_wall_s"]) >= {"pushcal validate DIR", "check-jsonschema",
                                           "libyaml load (floor)"}


def _send(figures: dict[str, Any]) -> None:
    for rounds in figures["rounds_detail"].values():
        assert [r["posts"] for r in rounds] == [100]
    assert figures["cpu_ms_per_post"] > 0


def _fire(figures: dict[str, Any]) -> None:
    assert figures["pushcal"]["n"] == 50
    assert figures["baseline"]["n"] == 50
    assert figures["duplicates"] == 0


def _burst(figures: dict[str, Any]) -> None:
    assert (figures["pushcal"]["sent"], figures["pushcal"]["received"]) == (50, 50)
    assert {how: b["received"] for how, b in figures["baselines"].items()} == {
        "shared": 50, "per-account": 50, "threads": 50}


def _wide_burst(figures: dict[str, Any]) -> None:
    (size,) = figures["sizes"]
    assert size["posts"] == 40 and size["duplicates"] == 0
    assert (size["pushcal"]["sent"], size["pushcal"]["received"], size["threads"]["received"],
            size["httpx_threads"]["received"]) == (40, 40, 40, 40)


def _startup(figures: dict[str, Any]) -> None:
    assert set(figures["best_wall_s"]) == {
        "python -c pass", "python -c 'import yaml, jsonschema'", "pushcal validate FILE",
        "pushcal --help"}
    assert all(wall > 0 for wall in figures["best_wall_s"].values())


def _idle(figures: dict[str, Any]) -> None:
    assert figures["files"] == 50 and figures["idle_s"] >= 5
    assert figures["cpu_s"] >= 0 and figures["entries_changed"] == 1


def _ledger_scale(figures: dict[str, Any]) -> None:
    assert figures["rows"] == 20_000
    assert figures["lines"]["pushcal history --entry e0020"] == 500
    assert figures["best_wall_s"]["pushcal run: launch -> started"] > 0


def _scale(figures: dict[str, Any]) -> None:
    assert figures["occurrences"] >= 2000
    assert figures["jobs"] > 0
    assert figures["jobs_touched"] == 2  # the moved entry's old instant and its new one
    assert figures["peak_rss_mb"] > 0


def _diff(figures: dict[str, Any]) -> None:
    assert figures["entries"] == 500
    assert figures["changes"] >= 1  # the edited entry, for each of its accounts
    assert set(figures["best_wall_s"]) == {"pushcal validate DIR", "pushcal diff HEAD DIR"}


def _alert_load(figures: dict[str, Any]) -> None:
    assert figures["none"]["n"] == figures["hang"]["n"] == 50  # both arms once (--small), all sent
    assert all(told["failed"] > 0 for told in figures["logged"].values())  # alerts were due


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "validate": _validate, "send_throughput": _send, "fire_precision": _fire, "burst": _burst,
    "scale": _scale, "diff": _diff, "wide_burst": _wide_burst,
    "startup": _startup, "alert_load": _alert_load, "idle": _idle,
    "ledger_scale": _ledger_scale,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_benchmark_runs_small(name: str, tmp_path: Path) -> None:
    report = tmp_path / "result.json"
    done = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), "--small", "--json",
                           str(report)], capture_output=True, text=True, timeout=240, check=False)
    shown = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode in (0, 1), shown
    result = json.loads(report.read_text())
    assert result["name"] == name and result["small"] is True, shown
    assert result["targets"], shown
    assert ("PASS" if result["passed"] else "FAIL") in done.stdout, shown
    CHECKS[name](result["figures"])
