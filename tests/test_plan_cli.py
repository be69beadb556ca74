"""`pushcal plan`: exact text and JSON for a small calendar on an injected clock, windows given
in UTC, with an offset or as wall time in the calendar's zone, ledger states, and no side effects.
"""

# ruff: noqa: E501  -- expected output is written out whole; plan's request lines are long.

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FB, PHOTO, TWO_ACCOUNTS, Run, X, run_pushcal

from runner.ledger import ClaimRequest, SqliteLedger, State

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

CALENDAR = TWO_ACCOUNTS + PHOTO + """\
posts:
  - {id: launch, at: "2026-12-01 09:00", to: [page, x], message: "We're live!", media: [photo]}
  - {id: tip, at: "2026-12-03 08:15", to: [x], message: "Brew tip", link: "https://example.com/tip",
     repeat: {every: week, count: 3}}
"""

# Exact output, with the identity tokens as FB and X and the page's ledger state as STATE.
LAUNCH_PAGE = """\
2026-12-01 09:00:00 CET (+01:00)  2026-12-01T08:00:00.000Z  launch -> pageSTATE
  1. POST /push/identities/FB/facebook/page/picture.json  (upload photo)
     {"request":{"push":{"page":{"id":"4563453","url":"https://cdn.example.com/photo.jpg","description":"A photo","create_post":false}}}}
  2. POST /push/identities/FB/facebook/page/post.json  (publish)
     {"request":{"push":{"page":{"id":"4563453","message":"We're live!","attachments":["<picture_id from upload photo>"]}}}}
"""
LAUNCH_X = """\
2026-12-01 09:00:00 CET (+01:00)  2026-12-01T08:00:00.000Z  launch -> x
  1. POST /push/identities/X/twitter/picture.json  (upload photo)
     {"request":{"push":{"picture":{"url":"https://cdn.example.com/photo.jpg","description":"A photo"}}}}
  2. POST /push/identities/X/twitter/post.json  (publish)
     {"request":{"push":{"post":{"message":"We're live!","attachments":["<picture_id from upload photo>"]}}}}
"""
TIP = """\
2026-12-DD 08:15:00 CET (+01:00)  2026-12-DDT07:15:00.000Z  tip@2026-12-DD -> xSTATE
  1. POST /push/identities/X/twitter/post.json  (publish)
     {"request":{"push":{"post":{"message":"Brew tip https://example.com/tip"}}}}
"""


def launch(state: str = "") -> str:
    page = LAUNCH_PAGE.replace("STATE", state and f"  [{state}]")
    return (page + LAUNCH_X).replace("/FB/", f"/{FB}/").replace("/X/", f"/{X}/")


def tip(day: int, state: str = "") -> str:
    text = TIP.replace("DD", f"{day:02}").replace("STATE", state and f"  [{state}]")
    return text.replace("/X/", f"/{X}/")




@pytest.fixture
def cal(tmp_path: Path) -> Path:
    path = tmp_path / "cal.yaml"
    path.write_text(CALENDAR, encoding="utf-8")
    return path


def pushcal(*argv: str | Path, env: dict[str, str] | None = None) -> Run:
    return run_pushcal([str(a) for a in argv], now=NOW, env=env)


def plan(cal: Path, *options: str | Path) -> Run:
    return pushcal("plan", cal, "--state", cal.parent / "ledger.sqlite", *options)


# -- text ------------------------------------------------------------------------------------

def test_plan_text_for_the_next_30_days(cal: Path) -> None:
    result = plan(cal)
    assert (result.code, result.err) == (0, ""), result
    assert result.out == (
        launch() + tip(3) + tip(10) + tip(17)
        + "5 deliveries of 2 entries, 7 requests, "
          "from 2026-11-30T12:00:00.000Z to 2026-12-30T12:00:00.000Z\n"), result


def test_plan_text_for_one_delivery_says_so_in_the_singular(cal: Path) -> None:
    result = plan(cal, "--from", "2026-12-10T07:15:00Z", "--to", "2026-12-10T07:16:00Z")
    assert result.code == 0, result
    assert result.out == tip(10) + (
        "1 delivery of 1 entry, 1 request, from 2026-12-10T07:15:00.000Z to 2026-12-10T07:16:00.000Z\n")


def test_a_window_with_nothing_in_it(cal: Path) -> None:
    text = plan(cal, "--from", "2027-01-01T00:00:00Z", "--to", "2027-02-01T00:00:00Z")
    assert text.code == 0, text
    assert text.out == ("0 deliveries of 0 entries, 0 requests, "
                        "from 2027-01-01T00:00:00.000Z to 2027-02-01T00:00:00.000Z\n")
    as_json = plan(cal, "--from", "2027-01-01T00:00:00Z", "--to", "2027-02-01T00:00:00Z",
                   "--format", "json")
    assert (as_json.code, as_json.out) == (0, "[]\n"), as_json


# -- windows ---------------------------------------------------------------------------------

def keys(result: Run) -> list[tuple[str, str]]:
    assert result.code == 0, result
    return [(item["key"], item["account"]) for item in json.loads(result.out)]


@pytest.mark.parametrize(("start", "end"), [
    ("2026-12-01T08:00:00Z", "2026-12-10T07:15:00Z"),  # UTC
    ("2026-12-01T09:00:00+01:00", "2026-12-10T02:15:00-05:00"),  # offsets
    ("2026-12-01 09:00", "2026-12-10 08:15"),  # wall times in Europe/Berlin
    ("2026-12-01 09:00:00", "2026-12-10T08:15"),
])
def test_from_is_inclusive_and_to_exclusive_however_written(cal: Path, start: str, end: str) -> None:
    assert keys(plan(cal, "--from", start, "--to", end, "--format", "json")) == [
        ("launch", "page"), ("launch", "x"), ("tip@2026-12-03", "x")]


def test_from_alone_plans_30_days_on(cal: Path) -> None:
    result = plan(cal, "--from", "2026-12-05")
    assert result.code == 0, result
    assert result.out.endswith("2 deliveries of 1 entry, 2 requests, "
                               "from 2026-12-04T23:00:00.000Z to 2027-01-03T23:00:00.000Z\n")


@pytest.mark.parametrize(("start", "end"), [
    ("2026-12-02T00:00:00Z", "2026-12-01T00:00:00Z"),
    ("2026-12-01T00:00:00Z", "2026-12-01T01:00:00+01:00"),  # the same instant
    ("2026-12-02 09:00", "2026-12-02T07:59:59Z"),
])
def test_to_not_after_from_is_a_usage_error(cal: Path, start: str, end: str) -> None:
    result = plan(cal, "--from", start, "--to", end)
    assert (result.code, result.out, result.err) == (
        2, "", "pushcal: --to must be after --from\n"), result


def test_a_wall_time_that_does_not_exist_is_a_usage_error_with_a_hint(cal: Path) -> None:
    result = plan(cal, "--from", "2027-03-28 02:30")
    assert result.code == 2, result
    assert result.err == ("pushcal: --from: 2027-03-28 02:30 does not exist in Europe/Berlin: "
                          "clocks skip forward that night (use 03:30 or a time outside the "
                          "skipped hour)\n"), result


def test_a_time_that_is_not_a_time_is_a_usage_error(cal: Path) -> None:
    result = plan(cal, "--to", "next tuesday")
    assert result.code == 2, result
    assert result.err.startswith("pushcal: --to: 'next tuesday' is not a time"), result


# -- JSON ------------------------------------------------------------------------------------

def test_plan_json_lists_entries_accounts_utc_times_and_requests(cal: Path) -> None:
    result = plan(cal, "--format", "json", "--from", "2026-12-01T08:00:00Z",
                  "--to", "2026-12-03T08:00:00Z")
    assert (result.code, result.err) == (0, ""), result
    items: list[dict[str, Any]] = json.loads(result.out)
    assert [(i["entry"], i["key"], i["account"], i["provider"], i["kind"], i["at"], i["local"],
             i["state"]) for i in items] == [
        ("launch", "launch", "page", "facebook", "posts", "2026-12-01T08:00:00.000Z",
         "2026-12-01T09:00:00+01:00", None),
        ("launch", "launch", "x", "twitter", "posts", "2026-12-01T08:00:00.000Z",
         "2026-12-01T09:00:00+01:00", None),
        ("tip", "tip@2026-12-03", "x", "twitter", "posts", "2026-12-03T07:15:00.000Z",
         "2026-12-03T08:15:00+01:00", None),
    ]
    assert items[0]["requests"] == [
        {"step": "upload photo", "method": "POST",
         "path": f"/push/identities/{FB}/facebook/page/picture.json",
         "body": {"request": {"push": {"page": {
             "id": "4563453", "url": "https://cdn.example.com/photo.jpg", "description": "A photo",
             "create_post": False}}}}},
        {"step": "publish", "method": "POST", "path": f"/push/identities/{FB}/facebook/page/post.json",
         "body": {"request": {"push": {"page": {
             "id": "4563453", "message": "We're live!",
             "attachments": ["<picture_id from upload photo>"]}}}}},
    ]
    assert items[2]["requests"] == [
        {"step": "publish", "method": "POST", "path": f"/push/identities/{X}/twitter/post.json",
         "body": {"request": {"push": {"post": {"message": "Brew tip https://example.com/tip"}}}}}]


# -- the ledger ------------------------------------------------------------------------------

def test_states_are_shown_when_a_ledger_exists(cal: Path) -> None:
    ledger_path = cal.parent / "ledger.sqlite"
    with SqliteLedger(ledger_path, clock=lambda: NOW) as ledger:
        row = ledger.claim(ClaimRequest("launch", "launch", "page", datetime(2026, 12, 1, 8, tzinfo=UTC),
                                        "facebook/page/post", "", None))
        assert row is not None
        ledger.finish("launch", "page", State.SENT, info="done", remote_id="1_2")
        assert ledger.claim(ClaimRequest("tip@2026-12-03", "tip", "x",
                                         datetime(2026, 12, 3, 7, 15, tzinfo=UTC),
                                         "twitter/post", "", None)) is not None
        ledger.finish("tip@2026-12-03", "x", State.RETRY_WAIT, info="busy",
                      next_attempt=NOW + timedelta(minutes=1))
    text = plan(cal, "--from", "2026-12-01 09:00", "--to", "2026-12-03 08:16")
    assert text.code == 0, text
    assert text.out == (launch("sent") + tip(3, "retry_wait")
                        + "3 deliveries of 2 entries, 5 requests, "
                          "from 2026-12-01T08:00:00.000Z to 2026-12-03T07:16:00.000Z\n"), text
    as_json = plan(cal, "--from", "2026-12-01 09:00", "--to", "2026-12-03 08:16", "--format", "json")
    assert [i["state"] for i in json.loads(as_json.out)] == ["sent", None, "retry_wait"]


def test_plan_never_creates_a_ledger(cal: Path, tmp_path: Path) -> None:
    given = tmp_path / "state" / "ledger.sqlite"
    assert plan(cal, "--state", given).code == 0
    from_env = pushcal("plan", cal, env={"PUSHCAL_STATE": str(tmp_path / "env.sqlite")})
    assert from_env.code == 0, from_env
    home = pushcal("plan", cal, env={"HOME": str(tmp_path / "home")})
    assert home.code == 0, home
    cache = tmp_path / "home" / ".cache"  # the checked files' records: no ledger
    made = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                  if cache not in p.parents and p != cache)
    assert made == ["cal.yaml", "home"]
    assert all(p.suffix == ".record" for p in cache.rglob("*") if p.is_file())


def test_plan_of_an_invalid_calendar_reports_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CALENDAR.replace("to: [x], message: \"Brew", "to: [y], message: \"Brew"),
                   encoding="utf-8")
    result = plan(bad)
    assert result.code == 1, result
    assert f"{bad}:10:" in result.out and "unknown account 'y'" in result.out, result


# -- shipped calendars -----------------------------------------------------------------------

def test_the_example_calendar_plans_for_december(tmp_path: Path) -> None:
    result = pushcal("plan", ROOT / "calendar.example.yaml", "--from", "2026-12-01",
                     "--to", "2027-01-02", "--state", tmp_path / "none.sqlite")
    assert (result.code, result.err) == (0, ""), result
    # 13 entries, one disabled; Advent 24, brew tip 4 (the 24th excepted), 2 uploads.
    assert result.out.splitlines()[-1] == (
        "42 deliveries of 12 entries, 44 requests, "
        "from 2026-11-30T23:00:00.000Z to 2027-01-01T23:00:00.000Z"), result


def test_the_every_endpoint_example_plans_all_20_endpoints(tmp_path: Path) -> None:
    result = pushcal("plan", ROOT / "examples" / "every-endpoint.yaml", "--format", "json",
                     "--from", "2027-01-04T00:00:00Z", "--to", "2027-01-05T00:00:00Z",
                     "--state", tmp_path / "none.sqlite")
    assert result.code == 0, result
    paths = {r["path"].split("/", 4)[4] for item in json.loads(result.out) for r in item["requests"]}
    assert paths == {
        "facebook/post.json", "facebook/picture.json", "facebook/video.json",
        "facebook/group/post.json", "facebook/group/picture.json", "facebook/group/video.json",
        "facebook/page/post.json", "facebook/page/picture.json", "facebook/page/video.json",
        "linkedin/post.json", "linkedin/company/post.json",
        "pinterest/board/400000000001/pin.json", "pinterest/board/400000000002/pin.json",
        "pinterest/board.json", "twitter/post.json", "twitter/picture.json", "twitter/video.json",
        "youtube/video.json", "youtube/playlist/PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG/video.json",
        "youtube/playlist.json", "youtube/channel/section.json",
    }


def test_a_skipped_wall_time_is_shown_as_the_clock_will_read_it(tmp_path: Path) -> None:
    path = tmp_path / "night.yaml"
    path.write_text(CALENDAR.split("media:")[0] + (
        "posts:\n"
        '  - {id: night, at: "2027-03-27 02:30", to: [x], message: "m", '
        "repeat: {every: day, count: 2}}\n"), encoding="utf-8")
    result = plan(path, "--from", "2027-03-27", "--to", "2027-03-29")
    assert result.code == 0, result
    assert [line for line in result.out.splitlines() if "->" in line] == [
        "2027-03-27 02:30:00 CET (+01:00)  2027-03-27T01:30:00.000Z  night@2027-03-27 -> x",
        # 02:30 does not exist that night: it goes out when the clock reads 03:30.
        "2027-03-28 03:30:00 CEST (+02:00)  2027-03-28T01:30:00.000Z  night@2027-03-28 -> x",
    ]
