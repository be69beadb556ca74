"""`pushcal status`, `history` and `resolve`, in-process on a ledger filled through its API.

The ledger is written with a fixed clock, so every time in the output is known; the commands
run through `runner.cli.main.main` with an injected clock and captured streams, and their output
is compared as exact text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import NOW, RunPushcal
from daemon_kit import calendar, post

from runner.ledger import ClaimRequest, SqliteLedger, State

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def fill(path: Path) -> None:
    """One row in each state a person may have to look at, and one that went out."""
    with SqliteLedger(path, clock=lambda: AT + timedelta(seconds=1)) as ledger:
        def claim(key: str, account: str, hours: int = 0) -> None:
            entry = key.partition("@")[0]
            ledger.claim(ClaimRequest(key, entry, account, AT + timedelta(hours=hours),
                                      "twitter/post", "c0ffee", None))

        claim("launch", "page")
        ledger.finish("launch", "page", State.SENT, http_status=200, remote_id="1001",
                      location="https://www.facebook.com/1001")
        claim("launch", "tw")
        ledger.finish("launch", "tw", State.UNKNOWN, info="read timeout: may have been acted on")
        claim("tip@2026-11-28", "tw", hours=1)
        ledger.finish("tip@2026-11-28", "tw", State.FAILED, http_status=400,
                      info="message too long")
        claim("tip@2026-11-29", "tw", hours=25)
        ledger.finish("tip@2026-11-29", "tw", State.UNKNOWN, info="HTTP 502")
        claim("digest", "page", hours=2)
        ledger.finish("digest", "page", State.RETRY_WAIT, http_status=503, info="busy",
                      next_attempt=AT + timedelta(hours=2, minutes=1))
        ledger.mark("old", entry="old", account="page", scheduled=AT - timedelta(days=1),
                    endpoint="facebook/page/post", state=State.MISSED, info="missed: 2 h late")


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    fill(path)
    return path


def test_status_counts_and_lists_what_needs_attention(pushcal: RunPushcal, state: Path) -> None:
    run = pushcal(["status", "--state", str(state)])

    assert run.code == 0, run
    assert run.out == (
        f"ledger {state}: failed: 1, missed: 1, retry_wait: 1, sent: 1, unknown: 2\n"
        "needs attention:\n"
        "  2026-11-27T09:00:00.000Z  old -> page  missed  missed: 2 h late\n"
        "    next: pushcal send CALENDAR old --account page --force\n"
        "  2026-11-28T09:00:00.000Z  launch -> tw  unknown  read timeout: may have been acted on\n"
        "    next: pushcal check CALENDAR --entry launch, then pushcal resolve launch"
        " --account tw --sent (or --not-sent)\n"
        "  2026-11-28T10:00:00.000Z  tip@2026-11-28 -> tw  failed  message too long\n"
        "    next: pushcal send CALENDAR tip@2026-11-28 --account tw --force\n"
        "  2026-11-28T11:00:00.000Z  digest -> page  retry_wait  busy\n"
        "    next: nothing to do while the daemon (pushcal run) runs: it retries it now"
        " (due since 2026-11-28T11:01:00.000Z)\n"
        "  2026-11-29T10:00:00.000Z  tip@2026-11-29 -> tw  unknown  HTTP 502\n"
        "    next: pushcal check CALENDAR --entry tip, then pushcal resolve tip@2026-11-29"
        " --account tw --sent (or --not-sent)\n"
    ), run
    assert run.err == ""


def test_status_with_a_calendar_shows_the_next_firings_not_yet_recorded(
        pushcal: RunPushcal, state: Path, tmp_path: Path) -> None:
    cal = tmp_path / "calendar.yaml"
    cal.write_text(calendar([
        post("launch", "2026-12-01 10:00", ["page", "tw"]),
        post("tip", "2026-11-28 11:00", ["tw"], repeat={"every": "day", "count": 4}),
        post("news", "2026-12-02 09:30", ["page"])]))

    run = pushcal(["status", str(cal), "--state", str(state)])

    assert run.code == 0, run
    # `launch` is recorded under its id for both accounts (sent, unknown): moving it in the
    # file does not make it due again. `tip` is past until 1 December.
    assert run.out.split("next:\n")[1] == (
        "  2026-12-01 11:00:00 CET (+01:00)  2026-12-01T10:00:00.000Z  tip@2026-12-01 -> tw\n"
        "  2026-12-02 09:30:00 CET (+01:00)  2026-12-02T08:30:00.000Z  news -> page\n"
    ), run


def test_status_without_a_ledger_says_so(pushcal: RunPushcal, tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"

    run = pushcal(["status", "--state", str(missing)])

    assert (run.code, run.out) == (0, f"no ledger at {missing} yet: nothing has been sent\n"), run
    assert not missing.exists()


def test_history_lists_every_row_by_scheduled_time(pushcal: RunPushcal, state: Path) -> None:
    run = pushcal(["history", "--state", str(state)])

    assert run.code == 0, run
    assert run.out.splitlines() == [
        "2026-11-27T09:00:00.000Z  old -> page  missed  missed: 2 h late",
        "2026-11-28T09:00:00.000Z  launch -> page  sent  https://www.facebook.com/1001",
        "2026-11-28T09:00:00.000Z  launch -> tw  unknown  read timeout: may have been acted on",
        "2026-11-28T10:00:00.000Z  tip@2026-11-28 -> tw  failed  message too long",
        "2026-11-28T11:00:00.000Z  digest -> page  retry_wait  busy",
        "2026-11-29T10:00:00.000Z  tip@2026-11-29 -> tw  unknown  HTTP 502",
    ], run


def test_history_as_json_is_a_list_of_objects(pushcal: RunPushcal, state: Path) -> None:
    run = pushcal(["history", "--state", str(state), "--format", "json", "--entry", "launch"])

    assert run.code == 0, run
    rows = json.loads(run.out)
    assert [{k: row[k] for k in ("entry", "account", "key", "state", "scheduled", "sent",
                                 "remote_id")} for row in rows] == [
        {"entry": "launch", "account": "page", "key": "launch", "state": "sent",
         "scheduled": "2026-11-28T09:00:00.000Z", "sent": "2026-11-28T09:00:01.000Z",
         "remote_id": "1001"},
        {"entry": "launch", "account": "tw", "key": "launch", "state": "unknown",
         "scheduled": "2026-11-28T09:00:00.000Z", "sent": None, "remote_id": None},
    ]


def test_history_filters_by_entry_and_since(pushcal: RunPushcal, state: Path) -> None:
    by_entry = pushcal(["history", "--state", str(state), "--entry", "tip"])
    since = pushcal(["history", "--state", str(state), "--since", "2026-11-28T10:00:00Z"])
    both = pushcal(["history", "--state", str(state), "--entry", "tip",
                    "--since", "2026-11-29T00:00+01:00"])

    assert [line.split()[1] for line in by_entry.out.splitlines()] == [
        "tip@2026-11-28", "tip@2026-11-29"], by_entry
    assert [line.split()[1] for line in since.out.splitlines()] == [
        "tip@2026-11-28", "digest", "tip@2026-11-29"], since
    assert [line.split()[1] for line in both.out.splitlines()] == ["tip@2026-11-29"], both


def test_history_without_a_ledger_is_a_clean_failure(pushcal: RunPushcal, tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"

    run = pushcal(["history", "--state", str(missing)])

    assert (run.code, run.out) == (1, ""), run
    assert run.err == f"pushcal: no ledger at {missing}; give --state or run something first\n"


@pytest.mark.parametrize(("flag", "now"), [("--sent", State.SENT), ("--not-sent", State.RETRY_WAIT)])
def test_resolve_settles_an_unknown_row(pushcal: RunPushcal, state: Path, flag: str,
                                        now: State) -> None:
    run = pushcal(["resolve", "launch", "--account", "tw", flag, "--state", str(state)])

    assert (run.code, run.out, run.err) == (0, f"launch -> tw: now {now}\n", ""), run
    with SqliteLedger(state, clock=lambda: NOW) as ledger:
        row = ledger.get("launch", "tw")
        assert row is not None and row.state is now
        assert row.info == f"resolved by hand: {flag[2:].replace('-', ' ')}"
        assert (row.next_attempt is None) == (now is State.SENT)


def test_resolve_one_occurrence_of_a_repeating_entry_by_key(pushcal: RunPushcal,
                                                           state: Path) -> None:
    run = pushcal(["resolve", "tip", "--account", "tw", "--key", "tip@2026-11-29", "--sent",
                   "--state", str(state)])

    assert (run.code, run.out) == (0, "tip@2026-11-29 -> tw: now sent\n"), run
    with SqliteLedger(state, clock=lambda: NOW) as ledger:
        assert ledger.counts()[State.UNKNOWN] == 1  # launch -> tw is still waiting


def test_resolve_refuses_a_row_that_is_not_unknown(pushcal: RunPushcal, state: Path) -> None:
    run = pushcal(["resolve", "launch", "--account", "page", "--not-sent", "--state", str(state)])

    assert (run.code, run.out) == (1, ""), run
    assert run.err == ("pushcal: nothing unknown to resolve for entry 'launch' on account 'page';"
                       " recorded: launch: sent\n")
    with SqliteLedger(state, clock=lambda: NOW) as ledger:
        row = ledger.get("launch", "page")
        assert row is not None and row.state is State.SENT


def test_resolve_names_an_entry_with_nothing_recorded(pushcal: RunPushcal, state: Path) -> None:
    run = pushcal(["resolve", "nope", "--account", "tw", "--sent", "--state", str(state)])

    assert run.code == 1, run
    assert run.err == "pushcal: nothing is recorded for entry 'nope' on account 'tw'\n"


def test_every_command_reads_the_ledger_named_by_state(pushcal: RunPushcal, state: Path,
                                                       tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with SqliteLedger(other, clock=lambda: NOW):
        pass
    env = {"PUSHCAL_STATE": str(state)}

    assert pushcal(["status", "--state", str(other)], env=env).out == (
        f"ledger {other}: no deliveries recorded\n")
    assert pushcal(["history", "--state", str(other)], env=env).out == (
        f"nothing recorded in {other}\n")
    refused = pushcal(["resolve", "launch", "--account", "tw", "--sent", "--state", str(other)],
                      env=env)
    assert refused.code == 1, refused
    # Without --state, $PUSHCAL_STATE is the ledger.
    assert pushcal(["status"], env=env).out.startswith(f"ledger {state}: failed: 1,")
    assert len(pushcal(["history"], env=env).out.splitlines()) == 6
    assert pushcal(["resolve", "launch", "--account", "tw", "--sent"], env=env).code == 0
