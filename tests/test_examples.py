"""The shipped examples can never rot: they validate, they plan on a fixed clock, the
every-endpoint example reaches all 20 OneAll endpoints, and splitting a calendar into a
folder of files changes nothing."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runner.oneall.endpoints import ENDPOINTS, PUSH_PREFIX

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "calendar.example.yaml"
EVERY = ROOT / "examples" / "every-endpoint.yaml"
DECEMBER = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # midnight in Berlin, 1 December
JANUARY_4 = datetime(2027, 1, 4, 0, 0, tzinfo=UTC)


def plan(pushcal: Any, paths: list[Path], now: datetime, tmp_path: Path) -> list[dict[str, Any]]:
    """`pushcal plan --format json` with the clock at `now` (the default 30-day window)."""
    argv = ["plan", *map(str, paths), "--format", "json", "--state", str(tmp_path / "none.sqlite")]
    run = pushcal(argv, now=now)
    assert (run.code, run.err) == (0, ""), str(run)
    assert not (tmp_path / "none.sqlite").exists()  # planning never creates a ledger
    items: list[dict[str, Any]] = json.loads(run.out)
    return items


@pytest.mark.parametrize("path", [EXAMPLE, EVERY], ids=lambda p: p.name)
def test_example_validates(pushcal: Any, path: Path) -> None:
    run = pushcal(["validate", str(path)])
    assert (run.code, run.err) == (0, ""), str(run)
    assert run.out.startswith("ok: 1 file, "), str(run)


def test_both_examples_validate_together_as_a_folder_would(pushcal: Any) -> None:
    # Their account names differ and their ids do not collide, so they form one calendar.
    run = pushcal(["validate", str(EXAMPLE), str(EVERY)])
    assert (run.code, run.out) == (0, "ok: 2 files, 32 entries of 8 kinds, 15 accounts, 8 media\n"), str(run)


def test_the_example_plans_december(pushcal: Any, tmp_path: Path) -> None:
    items = plan(pushcal, [EXAMPLE], DECEMBER, tmp_path)
    per_entry = Counter(item["entry"] for item in items)
    assert per_entry["advent-door"] == 24  # every day, count 24, one account
    assert per_entry["brew-tip"] == 3  # Thursdays 3, 10, 17; the 24th is an exception; 31st is outside
    assert per_entry["winter-blend-launch"] == 2  # page and X
    assert "year-in-review" not in per_entry  # enabled: false
    assert "new-year" not in per_entry  # 1 January is past the 30-day window
    # advent, brew tip, launch, LinkedIn, holiday hours; picture, two videos, pin, playlist, item
    assert len(items) == 24 + 3 + 2 + 2 + 2 + 1 + 2 + 1 + 1 + 1
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    launch = next(i for i in items if i["entry"] == "winter-blend-launch" and i["provider"] == "twitter")
    assert (launch["at"], launch["local"]) == ("2026-12-01T08:00:00.000Z", "2026-12-01T09:00:00+01:00")
    assert launch["requests"][-1]["body"]["request"]["push"]["post"]["message"].startswith(
        "Winter Blend is out today")  # the override for fernweh-x


def _endpoint_of(path: str) -> str:
    """The one endpoint key whose path pattern matches a request path."""
    found = [key for key, endpoint in ENDPOINTS.items()
             if re.fullmatch(_pattern(PUSH_PREFIX + endpoint.path), path)]
    assert len(found) == 1, (path, found)
    return found[0]


def _pattern(template: str) -> str:
    return re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))


def test_every_endpoint_example_uses_all_20_endpoints(pushcal: Any, tmp_path: Path) -> None:
    items = plan(pushcal, [EVERY], JANUARY_4, tmp_path)
    used = Counter(_endpoint_of(r["path"]) for item in items for r in item["requests"])
    assert len(ENDPOINTS) == 20
    assert set(used) == set(ENDPOINTS), set(ENDPOINTS) - set(used)
    assert {item["entry"] for item in items} == {
        "fb-profile-post", "fb-group-post", "fb-page-post", "fb-link-post", "li-profile-post",
        "li-company-post", "tweet", "fb-profile-picture", "fb-group-picture", "fb-page-picture",
        "fb-page-video", "tweet-video", "youtube-upload", "pin", "pin-board", "board", "playlist",
        "playlist-item", "channel-section"}


def _sections(text: str) -> dict[str, str]:
    """Top-level sections of a calendar file (key -> its lines), comments dropped."""
    sections: dict[str, str] = {}
    key = ""
    for line in text.splitlines(keepends=True):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            key = line.split(":", 1)[0]
            sections[key] = ""
        sections[key] += line
    return sections


def test_a_calendar_split_into_a_folder_plans_the_same(pushcal: Any, tmp_path: Path) -> None:
    sections = _sections(EXAMPLE.read_text("utf-8"))
    header = sections["version"] + sections["timezone"] + sections["grace"]
    folder = tmp_path / "calendar"
    (folder / "entries").mkdir(parents=True)
    (folder / "names.yaml").write_text(header + sections["accounts"] + sections["media"], "utf-8")
    lists = [k for k in sections if k not in ("version", "timezone", "grace", "accounts", "media")]
    assert len(lists) == 6  # posts, pictures, videos, pins, playlists, playlist_items
    for name in lists:
        (folder / "entries" / f"{name}.yml").write_text(header + sections[name], "utf-8")
    run = pushcal(["validate", str(folder)])
    assert run.out == "ok: 7 files, 13 entries of 6 kinds, 7 accounts, 5 media\n", str(run)
    whole = plan(pushcal, [EXAMPLE], DECEMBER, tmp_path)
    assert len(whole) == 39
    assert plan(pushcal, [folder], DECEMBER, tmp_path) == whole
