"""Nothing silent: a one-off dated in the past is said by validate, plan and the daemon."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from conftest import RunPushcal
from daemon_kit import calendar, post

from runner.cli import Context, main


@pytest.fixture
def cal(tmp_path: Path) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("launch", "2025-12-01 09:00", ["tw"]),
                              post("later", "2026-12-24 09:00", ["tw"])]))
    return path


WARNING = ("warning: launch is at 2025-12-01 09:00:00 CET (+01:00), in the past: it will never "
           "be sent on its own (a typo in the year?) (if it already happened, set `enabled: "
           "false` on it)")


def test_validate_warns_at_the_entry(pushcal: RunPushcal, cal: Path) -> None:
    run = pushcal(["validate", str(cal)])
    assert (run.code, run.err) == (0, ""), run
    assert run.out == (f"{cal}:21:1: {WARNING}\n"
                       "ok: 1 file, 2 entries of 1 kind, 3 accounts, 0 media\n"), run
    as_json = json.loads(pushcal(["validate", str(cal), "--format", "json"]).out)
    assert [(w["line"], w["severity"]) for w in as_json] == [(21, "warning")]


def test_enabled_false_says_it_already_happened(pushcal: RunPushcal, cal: Path) -> None:
    cal.write_text(calendar([post("launch", "2025-12-01 09:00", ["tw"], enabled=False)]))
    run = pushcal(["validate", str(cal)])
    assert run.out == "ok: 1 file, 1 entry of 1 kind, 3 accounts, 0 media\n", run


def test_plan_says_what_is_not_in_it(pushcal: RunPushcal, cal: Path) -> None:
    run = pushcal(["plan", str(cal), "--state", str(cal.parent / "none.sqlite")])
    assert run.code == 0, run
    assert run.out.splitlines()[-1] == (
        "not in this plan: launch was due 2025-12-01 09:00:00 CET (+01:00)  "
        "2025-12-01T08:00:00.000Z, before the window, and was never sent: it will not be sent "
        f"on its own (pushcal send {cal} launch; if it already happened, set `enabled: false` "
        "on it)"), run


def test_agenda_says_what_is_not_in_it(pushcal: RunPushcal, cal: Path) -> None:
    run = pushcal(["agenda", str(cal)])
    assert run.code == 0, run
    assert run.out.splitlines()[-1] == (
        "not in this agenda: launch was due 2025-12-01 09:00:00 CET (+01:00)  "
        "2025-12-01T08:00:00.000Z, in the past, and is not recorded as sent: it will not be "
        "sent on its own (if it already happened, set `enabled: false` on it)"), run


def test_the_daemon_logs_it_at_start(cal: Path, tmp_path: Path) -> None:
    until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    out, err = StringIO(), StringIO()
    code = main(["run", str(cal), "--sandbox", "--until", until],
                Context(env={}, out=out, err=err))
    assert code == 0, err.getvalue()
    line = next(x for x in err.getvalue().splitlines() if " past-one-off " in x)
    assert line.split(" ", 1)[1] == (
        'past-one-off entry=launch due=2025-12-01T08:00:00.000Z note="before the daemon looks '
        'back, never sent: it will not be sent on its own; send it with pushcal send, or set '
        'enabled: false if it already happened"')
