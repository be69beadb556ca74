"""Keys carry across commands, and every answer names the next step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import RunPushcal
from daemon_kit import calendar, post

from runner.ledger import ClaimRequest, SqliteLedger, State

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def cal(tmp_path: Path) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("tip", "2026-11-28 10:00", ["tw"],
                                   repeat={"every": "day", "forever": True})]))
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with SqliteLedger(path, clock=lambda: AT) as ledger:
        for day, outcome in ((28, State.FAILED), (29, State.SENT)):
            key = f"tip@2026-11-{day}"
            ledger.claim(ClaimRequest(key, "tip", "tw", AT + timedelta(days=day - 28),
                                      "twitter/post", "c0ffee", None))
            ledger.finish(key, "tw", outcome, info="too long" if outcome is State.FAILED else "")
    return path


def test_history_takes_a_key_and_a_wall_time(pushcal: RunPushcal, cal: Path, state: Path) -> None:
    one = pushcal(["history", "--entry", "tip@2026-11-29", "--state", str(state)])
    assert one.out == "2026-11-29T09:00:00.000Z  tip@2026-11-29 -> tw  sent\n", one
    local = pushcal(["history", str(cal), "--since", "2026-11-29 10:00", "--state", str(state)])
    assert local.out == ("2026-11-29 10:00:00 CET (+01:00)  2026-11-29T09:00:00.000Z  "
                         "tip@2026-11-29 -> tw  sent\n"), local
    none = pushcal(["history", "--entry", "tip@2026-11-30", "--state", str(state)])
    assert none.out == f"nothing recorded for tip@2026-11-30 in {state}\n", none


def test_send_takes_a_key_and_says_how_to_force(pushcal: RunPushcal, cal: Path,
                                                state: Path) -> None:
    run = pushcal(["send", str(cal), "tip@2026-11-28", "--state", str(state)],
                  env={"ONEALL_SUBDOMAIN": "x", "ONEALL_BASE_URL": "http://127.0.0.1:9",
                       "ONEALL_PUBLIC_KEY": "5a4db0c5-0000-4000-8000-000000000001",
                       "ONEALL_PRIVATE_KEY": "5a4db0c5-0000-4000-8000-000000000002"})
    assert (run.code, run.out) == (1, (
        "tip@2026-11-28 -> tw: not sent: already failed; send it again with: pushcal send "
        f"{cal} tip@2026-11-28 --account tw --force\n")), run
    wrong = pushcal(["send", str(cal), "tip@2026-13-01", "--state", str(state)])
    assert (wrong.code, wrong.err) == (1, (
        "pushcal: 'tip@2026-13-01' is not an occurrence of the calendar: the entry does not "
        "repeat on that local date (pushcal plan shows its occurrences)\n")), wrong


def test_a_wall_time_without_a_calendar_says_how_to_give_one(pushcal: RunPushcal,
                                                             state: Path) -> None:
    run = pushcal(["history", "--since", "2026-12-01", "--state", str(state)])
    assert (run.code, run.err) == (2, (
        "pushcal: --since '2026-12-01' has no offset: add Z or an offset such as +01:00, or "
        "give the calendar's PATH to read it in its zone\n")), run
