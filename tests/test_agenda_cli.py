"""`pushcal agenda`: exact lines grouped by day in the calendar's zone, accounts with their
provider, ledger states with --state, an account filter, colour only when asked."""

# ruff: noqa: E501  -- expected output is written out whole.

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import TWO_ACCOUNTS, run_pushcal

from runner.ledger import ClaimRequest, SqliteLedger, State

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CALENDAR = TWO_ACCOUNTS + """\
posts:
  - {id: launch, at: "2026-12-01 09:00", to: [page, x], message: "We're live!\\nSecond line"}
  - {id: tip, at: "2026-12-01 23:30", to: [x], message: "Brew tip", repeat: {every: day, count: 2}}
  - {id: ny, at: "2026-12-02 08:00", timezone: America/New_York, to: [x], message: "Hello NY"}
  - {id: off, at: "2026-12-02 09:00", to: [x], message: "Disabled", enabled: false}
"""
WINDOW = ("--from", "2026-11-30T00:00Z", "--to", "2026-12-31T00:00Z")


@pytest.fixture(name="cal")
def cal_fixture(tmp_path: Path) -> Path:
    path = tmp_path / "cal.yaml"
    path.write_text(CALENDAR, "utf-8")
    return path


def test_one_line_per_occurrence_grouped_by_day_in_the_calendar_zone(cal: Path) -> None:
    done = run_pushcal(["agenda", str(cal), *WINDOW], now=NOW)
    assert done.code == 0, done
    assert done.out == (
        "Tue 2026-12-01 (Europe/Berlin)\n"
        "  09:00 CET  post  launch          page (facebook), x (twitter)  We're live!\n"
        "  23:30 CET  post  tip@2026-12-01  x (twitter)  Brew tip\n"
        "Wed 2026-12-02 (Europe/Berlin)\n"
        "  14:00 CET  post  ny              x (twitter)  Hello NY\n"
        "  23:30 CET  post  tip@2026-12-02  x (twitter)  Brew tip\n"
        "4 occurrences, 5 deliveries\n"), done


def test_states_from_the_ledger_and_an_account_filter(cal: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    with SqliteLedger(ledger, clock=lambda: NOW) as rows:
        assert rows.claim(ClaimRequest("launch", "launch", "x", datetime(2026, 12, 1, 8, tzinfo=UTC),
                                       "twitter/post", "", None))
        rows.finish("launch", "x", State.FAILED, info="duplicate status", http_status=403)
    done = run_pushcal(["agenda", str(cal), *WINDOW, "--state", str(ledger), "--to", "2026-12-02T00:00Z"], now=NOW)
    assert done.out == (
        "Tue 2026-12-01 (Europe/Berlin)\n"
        "  09:00 CET  post  launch          page (facebook) [planned], x (twitter) [failed]  We're live!\n"
        "  23:30 CET  post  tip@2026-12-01  x (twitter) [planned]  Brew tip\n"
        "2 occurrences, 3 deliveries\n"), done
    only = run_pushcal(["agenda", str(cal), *WINDOW, "--account", "page", "--color", "always"], now=NOW)
    assert only.out == (
        "\x1b[1mTue 2026-12-01 (Europe/Berlin)\x1b[0m\n"
        "  \x1b[1m09:00 CET\x1b[0m  post  launch  page (facebook)  We're live!\n"
        "1 occurrence, 1 delivery\n"), only


def test_an_unknown_account_is_a_usage_error(cal: Path) -> None:
    done = run_pushcal(["agenda", str(cal), "--account", "nobody"], now=NOW)
    assert (done.code, done.out, done.err) == (2, "", "pushcal: --account: unknown account nobody; known: page, x\n"), done


def test_colour_comes_on_by_itself_on_a_terminal_and_not_with_no_color(cal: Path) -> None:
    import io
    import os
    import pty

    from runner.cli import Context, main

    def on_terminal(env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        with open(follower, "w", encoding="utf-8", closefd=True) as out:
            assert out.isatty()
            assert main(["agenda", str(cal), *WINDOW, "--to", "2026-12-01T12:00Z"],
                        Context(env=env, clock=lambda: NOW, out=out, err=io.StringIO())) == 0
        text = os.read(leader, 65536).decode()
        os.close(leader)
        return text

    assert "\x1b[1mTue 2026-12-01 (Europe/Berlin)\x1b[0m" in on_terminal({})
    assert "\x1b[" not in on_terminal({"NO_COLOR": "1"})
