"""Issue 9, class 7 (work): cost follows the window and the work asked for.

A far-future `except` is checked against the rule instead of walking millions of days to it
(the walk stops after `MAX_WALK` candidates); what it says stays the same."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from runner.calendar.model import Repeat
from runner.calendar.repetition import MAX_WALK, unmatched_skips

START = datetime(2026, 12, 7, 9, 0)  # a Monday


@pytest.mark.parametrize(("rule", "skip", "unmatched"), [
    (Repeat("day"), date(9990, 1, 1), False),
    (Repeat("day", interval=2), date(9990, 1, 1), (date(9990, 1, 1) - START.date()).days % 2 == 1),
    (Repeat("week"), date(9990, 1, 7), date(9990, 1, 7).weekday() != 0),
    (Repeat("week", on=(0, 2)), date(9990, 1, 2), date(9990, 1, 2).weekday() not in (0, 2)),
    (Repeat("month"), date(9990, 1, 7), False),
    (Repeat("month"), date(9990, 1, 8), True),
    (Repeat("day", until=datetime(9000, 1, 1)), date(9990, 1, 1), True),
    (Repeat("day"), datetime(9990, 1, 1, 9, 0), False),
    (Repeat("day"), datetime(9990, 1, 1, 10, 0), True),
])
def test_a_far_future_except_is_judged_by_the_rule(rule: Repeat, skip: date, unmatched: bool
                                                     ) -> None:
    found = unmatched_skips(START, rule, {skip, START.date()})
    assert found == ([skip] if unmatched else [])


def test_the_walk_is_bounded_and_agrees_with_it_below_the_bound() -> None:
    near = date.fromordinal(START.date().toordinal() + MAX_WALK - 10)
    assert unmatched_skips(START, Repeat("day", interval=3), {near}) == (
        [] if (near - START.date()).days % 3 == 0 else [near])


def test_suggestions_for_many_unknown_names_are_bounded() -> None:
    from runner.calendar.rules import SUGGESTIONS, _known

    accounts = {f"team-{n:04d}-account": object() for n in range(700)}
    said = [_known(f"team-{n:04d}-acount", accounts, "accounts") for n in range(700, 1400)]
    suggested = [s for s in said if s.startswith("did you mean")]
    assert 0 < len(suggested) <= SUGGESTIONS
    rest = [s for s in said if not s.startswith("did you mean")]
    assert rest and all(s.endswith(" and 690 more") for s in rest)
    assert _known("team-0001-acount", {"team-0001-account": 1}, "accounts") == (
        "did you mean 'team-0001-account'?")  # another set of names has its own budget


def test_the_json_plan_is_written_as_it_goes_and_reads_as_one_document(tmp_path: Path) -> None:
    import json

    from conftest import run_pushcal
    from daemon_kit import calendar, post

    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("d", "2026-12-01 09:00", ["tw", "page"],
                                   repeat={"every": "day", "forever": True})]))
    done = run_pushcal(["plan", str(path), "--format", "json", "--from", "2026-12-01",
                        "--to", "2026-12-04"])
    assert done.code == 0, done
    document = json.loads(done.out)
    assert len(document) == 6
    assert done.out == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    empty = run_pushcal(["plan", str(path), "--format", "json", "--from", "2020-01-01",
                         "--to", "2020-01-02"])
    assert empty.out == "[]\n"
