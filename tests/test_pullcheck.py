"""`pushcal check`: an `unknown` delivery looked up in the account's Pull listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import run_pushcal

from runner.ledger import SqliteLedger, State
from runner.sandbox import Faults, Sandbox

CALENDAR = """version: 1
timezone: UTC
accounts:
  x: {provider: twitter, identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}
  page: {provider: facebook, identity: 923843ec-1749-4cc1-988f-d6963f3b1baa, page: "4563453"}
  li: {provider: linkedin, identity: 0e7a1f52-9c3d-4b8e-a6f1-7d2b5c8e9a14}
posts:
  - {id: tweet, at: "2026-12-01 09:00", to: [x], message: "Hello from the tweet"}
  - {id: page-post, at: "2026-12-01 09:00", to: [page], message: "Hello from the page"}
  - {id: li-post, at: "2026-12-01 09:00", to: [li], message: "Hi", link: "https://example.com/a"}
"""


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def cal(tmp_path: Path) -> Path:
    path = tmp_path / "cal.yaml"
    path.write_text(CALENDAR, encoding="utf-8")
    return path


def _unknown(box: Sandbox, cal: Path, state: Path, entry: str, fault: str) -> None:
    box.set_faults(Faults(fail_rate=1.0, fail_codes=(fault,), hang_s=2.0))
    run = run_pushcal(["send", str(cal), entry, "--state", str(state), "--read-timeout", "0.5"],
                      env=box.env())
    assert run.code == 1, run
    box.set_faults(Faults())
    with SqliteLedger(state, clock=lambda: datetime.now(UTC)) as ledger:
        assert {row.state for row in ledger.rows(entry=entry)} == {State.UNKNOWN}


def test_a_post_that_went_out_is_seen_and_one_that_did_not_is_not(box: Sandbox, cal: Path,
                                                                    tmp_path: Path) -> None:
    state = tmp_path / "ledger.sqlite"
    _unknown(box, cal, state, "tweet", "timeout")      # created, then no answer
    _unknown(box, cal, state, "page-post", "drop")     # never created
    run = run_pushcal(["check", str(cal), "--state", str(state)], env=box.env())
    assert run.code == 0, run
    tweet = next(r for r in box.created() if r.endpoint == "twitter/post")
    assert run.out.splitlines() == [
        "page-post -> page: not seen in the listing: it probably did not go out (check, then "
        "pushcal resolve page-post --account page --not-sent)",
        f"tweet -> x: seen at https://twitter.com/i/web/status/{tweet.created}: it went out "
        f"(pushcal resolve tweet --account x --sent --location "
        f"https://twitter.com/i/web/status/{tweet.created})",
    ], run
    # check only reports: the ledger is unchanged
    again = run_pushcal(["status", "--state", str(state)], env=box.env())
    assert "unknown: 2" in again.out, again
    # the command check suggests keeps the address it found
    url = f"https://twitter.com/i/web/status/{tweet.created}"
    resolved = run_pushcal(["resolve", "tweet", "--account", "x", "--sent", "--location", url,
                            "--state", str(state)], env=box.env())
    assert resolved.out == f"tweet -> x: now sent at {url}\n", resolved
    history = run_pushcal(["history", "--entry", "tweet", "--state", str(state)], env=box.env())
    assert history.out.split("  ")[-1] == f"{url}\n", history


def test_nothing_unknown_says_so(box: Sandbox, cal: Path, tmp_path: Path) -> None:
    state = tmp_path / "ledger.sqlite"
    sent = run_pushcal(["send", str(cal), "li-post", "--state", str(state)], env=box.env())
    assert sent.code == 0, sent
    run = run_pushcal(["check", str(cal), "--state", str(state)], env=box.env())
    assert (run.code, run.out) == (0, "nothing is unknown\n"), run
