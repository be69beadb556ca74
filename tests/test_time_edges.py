"""Issue 9, class 6: a skipped calendar day fires nothing twice; an `until` with an offset is
an instant, compared as one."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from daemon_kit import calendar, post

from runner.calendar import expand, load, occurrence


@pytest.mark.parametrize(("zone", "first", "gone"), [
    ("Pacific/Apia", "2011-12-28 09:00", "2011-12-30"),
    ("Pacific/Kwajalein", "1993-08-19 09:00", "1993-08-21"),
])
def test_a_daily_repeat_across_a_skipped_day_fires_once_per_instant(
        tmp_path: Path, zone: str, first: str, gone: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("d", first, ["tw"], repeat={"every": "day", "count": 6})],
                             zone=zone))
    cal = load([str(path)])
    found = expand(cal, datetime(1990, 1, 1, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC))
    assert max(Counter(o.due for o in found).values()) == 1
    assert f"d@{gone}" not in {o.key for o in found}
    assert occurrence(cal, f"d@{gone}", "tw") is None


def test_an_until_with_an_offset_keeps_the_fall_back_nights_occurrence(tmp_path: Path) -> None:
    # 01:45 EDT on 2026-11-01 is 05:45Z, before the until's 01:30 EST (06:30Z).
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("n", "2026-10-30 01:45", ["tw"], repeat={
        "every": "day", "until": "2026-11-01T01:30:00-05:00"})], zone="America/New_York"))
    found = expand(load([str(path)]), datetime(2026, 10, 1, tzinfo=UTC),
                   datetime(2026, 12, 1, tzinfo=UTC))
    assert [o.key for o in found] == ["n@2026-10-30", "n@2026-10-31", "n@2026-11-01"]
