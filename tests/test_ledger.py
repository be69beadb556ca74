"""The ledger: every transition allowed and refused, durability, the daemon lock and races.

Real SQLite files under tmp_path and an injected clock; races use real threads and processes.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pathlib
import random
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from runner.errors import PushcalError
from runner.ledger import (
    CLAIMABLE,
    ClaimRequest,
    Ledger,
    LedgerError,
    Row,
    SqliteLedger,
    State,
)
from runner.ledger.contract import MARK_OVER

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ENDPOINT = "facebook/page/post"
# Every state a row can be in: `planned` is what the calendar implies, never a stored row.
RECORDED = frozenset(State) - {State.PLANNED}


class Clock:
    """Virtual time: starts at T0, moves only when told."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "state" / "ledger.sqlite"


@pytest.fixture
def ledger(path: pathlib.Path, clock: Clock) -> Iterator[SqliteLedger]:
    with SqliteLedger(path, clock=clock) as opened:
        yield opened


def claim(ledger: Ledger, key: str = "launch", account: str = "acme-page", **extra: Any) -> Row | None:
    fields: dict[str, Any] = {"entry": key.split("@")[0], "account": account, "scheduled": DUE,
                              "endpoint": ENDPOINT, "calendar_hash": "h1", "commit": "abc123"}
    return ledger.claim(ClaimRequest(key, **(fields | extra)))


def mark(ledger: Ledger, state: State, key: str = "launch", account: str = "acme-page") -> bool:
    return ledger.mark(key, entry=key.split("@")[0], account=account, scheduled=DUE,
                       endpoint=ENDPOINT, state=state, info=f"{state.value} by policy")


def put(ledger: SqliteLedger, state: State, key: str = "launch", account: str = "acme-page") -> Row:
    """Bring a fresh row into `state` through the public interface only."""
    if state in (State.MISSED, State.CANCELLED):
        assert mark(ledger, state, key, account)
    else:
        assert claim(ledger, key, account) is not None
        if state is not State.SENDING:
            later = T0 + timedelta(minutes=5) if state is State.RETRY_WAIT else None
            ledger.finish(key, account, state, info=f"went {state.value}", next_attempt=later)
    row = ledger.get(key, account)
    assert row is not None and row.state is state
    return row


# --- opening -------------------------------------------------------------------------------


def test_many_openers_creating_one_ledger_at_once_all_succeed(path: pathlib.Path) -> None:
    start = threading.Barrier(8, timeout=60)
    opened: list[bool] = []

    def open_it() -> None:
        start.wait()
        with SqliteLedger(path, clock=lambda: T0) as ledger:
            opened.append(ledger.counts()[State.SENT] == 0)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == [True] * 8


def test_a_new_ledger_creates_its_directory_and_starts_empty(ledger: SqliteLedger,
                                                            path: pathlib.Path) -> None:
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir() if ".new" in p.name] == []  # no drafts left
    assert ledger.counts() == dict.fromkeys(State, 0)
    assert ledger.rows() == []
    assert ledger.history() == []


def test_states_are_strings_and_know_which_are_terminal() -> None:
    assert [state.value for state in State] == [
        "planned", "sending", "sent", "accepted", "retry_wait", "failed", "unknown", "missed",
        "cancelled"]
    assert isinstance(State.SENT, str) and State("sent") is State.SENT
    assert str(State.RETRY_WAIT) == f"{State.RETRY_WAIT}" == "retry_wait"
    assert {state for state in State if state.terminal} == {
        State.SENT, State.FAILED, State.MISSED, State.CANCELLED}


def test_everything_survives_close_and_reopen(path: pathlib.Path, clock: Clock) -> None:
    with SqliteLedger(path, clock=clock) as first:
        claim(first, "launch")
        first.record_step("launch", "acme-page", "upload launch-photo", "1122")
        first.finish("launch", "acme-page", State.SENT, http_status=200, remote_id="77_88",
                     location="https://www.facebook.com/77_88", info="ok")
        mark(first, State.MISSED, "recap")
        before_rows, before_events = first.rows(), first.history()
    with SqliteLedger(path, clock=clock) as second:
        assert second.rows() == before_rows
        assert second.history() == before_events
        sent = second.get("launch", "acme-page")
        assert sent is not None and sent.remote_id == "77_88"
        assert dict(sent.steps) == {"upload launch-photo": "1122"}


# --- claim ---------------------------------------------------------------------------------


def test_claiming_a_new_row_takes_it_into_sending(ledger: SqliteLedger, clock: Clock) -> None:
    clock.now = T0 + timedelta(seconds=1, microseconds=234567)
    row = claim(ledger)
    assert row == Row(
        key="launch", entry="launch", account="acme-page", state=State.SENDING, scheduled=DUE,
        endpoint=ENDPOINT, attempts=1, claimed=T0 + timedelta(seconds=1, milliseconds=234),
        finished=None, next_attempt=None, remote_id=None, location=None, http_status=None,
        info="", calendar_hash="h1", commit="abc123", steps={})
    assert ledger.get("launch", "acme-page") == row


def test_a_claim_is_visible_to_another_instance_at_once(path: pathlib.Path, clock: Clock) -> None:
    with SqliteLedger(path, clock=clock) as one, SqliteLedger(path, clock=clock) as two:
        assert claim(one) is not None
        assert claim(two) is None
        row = two.get("launch", "acme-page")
        assert row is not None and row.state is State.SENDING


@pytest.mark.parametrize("state", sorted(CLAIMABLE & RECORDED))
def test_planned_retry_wait_and_cancelled_rows_are_claimed_again(ledger: SqliteLedger, clock: Clock,
                                                       state: State) -> None:
    before = put(ledger, state)
    clock.advance(600)
    row = claim(ledger, calendar_hash="h2", commit=None, endpoint="facebook/post")
    assert row is not None and row.state is State.SENDING
    assert row.attempts == before.attempts + 1
    assert (row.claimed, row.next_attempt, row.finished) == (clock.now, None, None)
    assert (row.calendar_hash, row.commit, row.endpoint) == ("h2", None, "facebook/post")


@pytest.mark.parametrize("state", [s for s in RECORDED if s not in CLAIMABLE])
def test_every_other_state_refuses_a_claim(ledger: SqliteLedger, state: State) -> None:
    before = put(ledger, state)
    assert claim(ledger) is None
    assert ledger.get("launch", "acme-page") == before


@pytest.mark.parametrize("state", [State.FAILED, State.MISSED, State.CANCELLED])
def test_a_forced_claim_takes_rows_that_never_reached_oneall(ledger: SqliteLedger,
                                                             state: State) -> None:
    put(ledger, state)
    row = claim(ledger, force_retry=True)
    assert row is not None and row.state is State.SENDING
    assert ledger.history()[-1].info.endswith("(forced)")


@pytest.mark.parametrize("state", [State.SENDING, State.SENT, State.UNKNOWN])
def test_not_even_a_forced_claim_takes_what_may_have_been_posted(ledger: SqliteLedger,
                                                                state: State) -> None:
    before = put(ledger, state)
    assert claim(ledger, force_retry=True) is None
    assert ledger.get("launch", "acme-page") == before


def test_claim_many_claims_in_order_and_refuses_what_is_taken(ledger: SqliteLedger) -> None:
    requests = [ClaimRequest(key, key, "acme-x", DUE, "twitter/post", "h1", None)
                for key in ("new", "old", "retry", "new")]
    put(ledger, State.SENT, "old", "acme-x")
    put(ledger, State.RETRY_WAIT, "retry", "acme-x")
    results = ledger.claim_many(requests)
    assert [None if row is None else (row.key, row.attempts) for row in results] == [
        ("new", 1), None, ("retry", 2), None]


def test_claim_many_is_one_transaction(ledger: SqliteLedger) -> None:
    naive = datetime(2026, 12, 1, 8, 0)
    good = ClaimRequest("a", "a", "acme-x", DUE, "twitter/post", "h1", None)
    bad = ClaimRequest("b", "b", "acme-x", naive, "twitter/post", "h1", None)
    with pytest.raises(ValueError, match="aware"):
        ledger.claim_many([good, bad])
    assert ledger.rows() == [] and ledger.history() == []


# --- steps and finish -----------------------------------------------------------------------


def test_steps_are_recorded_read_back_and_kept_for_the_retry(ledger: SqliteLedger) -> None:
    claim(ledger)
    ledger.record_step("launch", "acme-page", "upload launch-photo", "1122")
    ledger.record_step("launch", "acme-page", "upload menu", "3344")
    ledger.finish("launch", "acme-page", State.RETRY_WAIT, http_status=503, info="busy",
                  next_attempt=T0 + timedelta(seconds=30))
    row = claim(ledger)
    assert row is not None and row.attempts == 2
    assert dict(row.steps) == {"upload launch-photo": "1122", "upload menu": "3344"}
    assert [e.info for e in ledger.history() if e.info.startswith("step")] == [
        "step upload launch-photo: 1122", "step upload menu: 3344"]


@pytest.mark.parametrize("state", [s for s in RECORDED if s is not State.SENDING])
def test_only_a_sending_row_records_steps(ledger: SqliteLedger, state: State) -> None:
    put(ledger, state)
    with pytest.raises(LedgerError, match=f"it is {state.value}, not sending"):
        ledger.record_step("launch", "acme-page", "upload", "1")


@pytest.mark.parametrize("state", [State.SENT, State.FAILED, State.UNKNOWN, State.RETRY_WAIT])
def test_a_sending_row_finishes_in_any_outcome(ledger: SqliteLedger, clock: Clock,
                                               state: State) -> None:
    claim(ledger)
    clock.advance(2)
    retry = T0 + timedelta(minutes=1) if state is State.RETRY_WAIT else None
    row = ledger.finish("launch", "acme-page", state, info="OneAll said so", http_status=201,
                        remote_id="9_9", location="https://x/9_9", next_attempt=retry)
    assert (row.state, row.info, row.http_status, row.finished) == (
        state, "OneAll said so", 201, clock.now)
    assert (row.remote_id, row.location, row.next_attempt) == ("9_9", "https://x/9_9", retry)
    assert ledger.history()[-1].from_state is State.SENDING


@pytest.mark.parametrize("state", [s for s in RECORDED if s is not State.SENDING])
def test_finishing_a_row_that_is_not_sending_is_refused(ledger: SqliteLedger,
                                                        state: State) -> None:
    before = put(ledger, state)
    with pytest.raises(LedgerError, match=f"cannot finish 'launch' on account 'acme-page': "
                                          f"it is {state.value}, not sending"):
        ledger.finish("launch", "acme-page", State.SENT)
    assert ledger.get("launch", "acme-page") == before


@pytest.mark.parametrize("state", [State.SENDING, State.MISSED, State.CANCELLED])
def test_finish_refuses_states_that_are_not_outcomes(ledger: SqliteLedger, state: State) -> None:
    claim(ledger)
    with pytest.raises(LedgerError, match=f"cannot set {state.value}"):
        ledger.finish("launch", "acme-page", state)
    row = ledger.get("launch", "acme-page")
    assert row is not None and row.state is State.SENDING


def test_finish_wants_next_attempt_exactly_for_retry_wait(ledger: SqliteLedger) -> None:
    claim(ledger)
    with pytest.raises(LedgerError, match="next_attempt"):
        ledger.finish("launch", "acme-page", State.RETRY_WAIT)
    with pytest.raises(LedgerError, match="next_attempt"):
        ledger.finish("launch", "acme-page", State.SENT, next_attempt=T0)
    with pytest.raises(LedgerError, match="nothing is recorded for 'nope'"):
        ledger.finish("nope", "acme-page", State.SENT)


# --- mark ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.MISSED, State.CANCELLED])
def test_mark_records_a_row_that_never_existed(ledger: SqliteLedger, clock: Clock,
                                               state: State) -> None:
    assert mark(ledger, state)
    row = ledger.get("launch", "acme-page")
    assert row is not None
    assert (row.state, row.attempts, row.info, row.finished) == (
        state, 0, f"{state.value} by policy", clock.now)


@pytest.mark.parametrize("before", sorted(MARK_OVER & RECORDED))
@pytest.mark.parametrize("state", [State.MISSED, State.CANCELLED])
def test_mark_overrides_planned_and_retry_wait(ledger: SqliteLedger, before: State,
                                               state: State) -> None:
    put(ledger, before)
    assert mark(ledger, state)
    row = ledger.get("launch", "acme-page")
    assert row is not None and (row.state, row.next_attempt) == (state, None)
    assert ledger.history()[-1].from_state is before


@pytest.mark.parametrize("before", [s for s in RECORDED if s not in MARK_OVER])
@pytest.mark.parametrize("state", [State.MISSED, State.CANCELLED])
def test_mark_never_overrides_anything_else(ledger: SqliteLedger, before: State,
                                            state: State) -> None:
    row = put(ledger, before)
    events = ledger.history()
    assert not mark(ledger, state)
    assert ledger.get("launch", "acme-page") == row
    assert ledger.history() == events


@pytest.mark.parametrize("state", [s for s in RECORDED if s not in (State.MISSED, State.CANCELLED)])
def test_mark_is_only_for_missed_and_cancelled(ledger: SqliteLedger, state: State) -> None:
    with pytest.raises(LedgerError, match="mark\\(\\) is for missed and cancelled"):
        mark(ledger, state)
    assert ledger.rows() == []


# --- recover and resolve --------------------------------------------------------------------


def test_recover_turns_interrupted_sends_into_unknown(ledger: SqliteLedger) -> None:
    put(ledger, State.SENDING, "a")
    put(ledger, State.SENDING, "b")
    put(ledger, State.RETRY_WAIT, "c")
    put(ledger, State.SENT, "d")
    ledger.acquire_daemon_lock()
    recovered = ledger.recover()
    assert [(row.key, row.state) for row in recovered] == [("a", State.UNKNOWN),
                                                          ("b", State.UNKNOWN)]
    assert all("interrupted while sending" in row.info for row in recovered)
    assert ledger.counts() == dict.fromkeys(State, 0) | {
        State.UNKNOWN: 2, State.RETRY_WAIT: 1, State.SENT: 1}
    assert ledger.recover() == []


def test_recover_needs_the_daemon_lock(ledger: SqliteLedger) -> None:
    put(ledger, State.SENDING)
    with pytest.raises(LedgerError, match="needs the daemon lock"):
        ledger.recover()
    assert ledger.counts()[State.SENDING] == 1


def test_recover_waits_for_a_hand_send_in_flight(path: pathlib.Path, clock: Clock) -> None:
    # `pushcal send` holds its row in `sending` while the request is out; a daemon starting
    # at that moment must not take it for a crash's leftover.
    with SqliteLedger(path, clock=clock) as sender, SqliteLedger(path, clock=clock) as daemon:
        daemon.acquire_daemon_lock()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            with sender.hold_for_sending():
                assert claim(sender) is not None
                recovering = pool.submit(daemon.recover)
                time.sleep(0.3)  # long enough for a recover that does not wait to finish
                assert not recovering.done()
                sender.finish("launch", "acme-page", State.SENT, remote_id="42")
            assert recovering.result(timeout=10) == []
        row = daemon.get("launch", "acme-page")
        assert row is not None and (row.state, row.remote_id) == (State.SENT, "42")


def test_resolve_as_sent(ledger: SqliteLedger, clock: Clock) -> None:
    put(ledger, State.UNKNOWN, "launch")
    clock.advance(3600)
    [row] = ledger.resolve("launch", "acme-page", sent=True)
    assert (row.state, row.info, row.finished) == (State.SENT, "resolved by hand: sent", clock.now)
    assert claim(ledger) is None


def test_resolve_as_not_sent_makes_it_due_again(ledger: SqliteLedger, clock: Clock) -> None:
    put(ledger, State.UNKNOWN, "launch")
    clock.advance(3600)
    [row] = ledger.resolve("launch", "acme-page", sent=False)
    assert (row.state, row.info, row.next_attempt) == (
        State.RETRY_WAIT, "resolved by hand: not sent", clock.now)
    assert ledger.rows(states=[State.RETRY_WAIT]) == [row]
    again = claim(ledger)
    assert again is not None and again.attempts == 2


def test_resolve_takes_all_unknown_rows_of_an_entry_or_the_one_key(ledger: SqliteLedger) -> None:
    for key in ("weekly@2026-12-01", "weekly@2026-12-08", "weekly@2026-12-15"):
        put(ledger, State.UNKNOWN, key)
    [one] = ledger.resolve("weekly", "acme-page", sent=True, key="weekly@2026-12-08")
    assert one.key == "weekly@2026-12-08"
    rest = ledger.resolve("weekly", "acme-page", sent=False)
    assert [row.key for row in rest] == ["weekly@2026-12-01", "weekly@2026-12-15"]
    assert ledger.counts()[State.UNKNOWN] == 0


def test_resolve_without_an_unknown_row_says_what_exists(ledger: SqliteLedger) -> None:
    with pytest.raises(LedgerError) as nothing:
        ledger.resolve("launch", "acme-page", sent=True)
    assert str(nothing.value) == "nothing is recorded for entry 'launch' on account 'acme-page'"
    put(ledger, State.SENT, "launch")
    put(ledger, State.FAILED, "launch", "acme-x")
    with pytest.raises(LedgerError) as settled:
        ledger.resolve("launch", "acme-page", sent=False)
    assert str(settled.value) == ("nothing unknown to resolve for entry 'launch' on account"
                                  " 'acme-page'; recorded: launch: sent")
    assert isinstance(LedgerError("x"), PushcalError)


# --- reading --------------------------------------------------------------------------------


def test_rows_filter_and_sort(ledger: SqliteLedger) -> None:
    for hours, key in ((3, "c"), (1, "a"), (2, "b")):
        for account in ("acme-x", "acme-page"):
            ledger.claim(ClaimRequest(key, key, account, DUE + timedelta(hours=hours), ENDPOINT,
                                      "h", None))
    ledger.finish("b", "acme-x", State.SENT)
    every = [(row.key, row.account) for row in ledger.rows()]
    assert every == [("a", "acme-page"), ("a", "acme-x"), ("b", "acme-page"), ("b", "acme-x"),
                     ("c", "acme-page"), ("c", "acme-x")]
    assert [(r.key, r.account) for r in ledger.rows(states=[State.SENT])] == [("b", "acme-x")]
    assert [r.account for r in ledger.rows(entry="c")] == ["acme-page", "acme-x"]
    assert [r.key for r in ledger.rows(since=DUE + timedelta(hours=2), limit=3)] == ["b", "b", "c"]
    assert ledger.rows(states=[]) == []
    assert ledger.keys_in([State.SENT, State.FAILED]) == {("b", "acme-x")}
    assert len(ledger.keys_in([State.SENDING])) == 5
    assert ledger.keys_in([]) == set()


def test_history_keeps_every_change_of_a_row(ledger: SqliteLedger, clock: Clock) -> None:
    claim(ledger)
    clock.advance(1)
    ledger.finish("launch", "acme-page", State.UNKNOWN, info="read timeout")
    clock.advance(60)
    ledger.resolve("launch", "acme-page", sent=True)
    put(ledger, State.MISSED, "other")
    changes = [(e.from_state, e.to_state, e.info, e.at) for e in ledger.history(entry="launch")]
    assert changes == [
        (None, State.SENDING, "claimed, attempt 1", T0),
        (State.SENDING, State.UNKNOWN, "read timeout", T0 + timedelta(seconds=1)),
        (State.UNKNOWN, State.SENT, "resolved by hand: sent", T0 + timedelta(seconds=61)),
    ]
    assert [e.to_state for e in ledger.history(limit=2)] == [State.SENT, State.MISSED]
    assert [e.key for e in ledger.history(account="acme-page", key="other")] == ["other"]


def test_times_are_stored_in_utc_to_the_millisecond(ledger: SqliteLedger, clock: Clock) -> None:
    clock.now = datetime(2026, 12, 1, 9, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1)))
    row = claim(ledger, scheduled=datetime(2026, 12, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))))
    assert row is not None
    assert row.claimed == datetime(2026, 12, 1, 8, 0, 0, 999000, tzinfo=UTC)
    assert row.scheduled == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert row.scheduled.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="aware"):
        claim(ledger, "naive", scheduled=datetime(2026, 12, 1, 8, 0))


# --- the daemon lock ------------------------------------------------------------------------


def test_a_second_daemon_is_refused_until_the_first_closes(path: pathlib.Path,
                                                           clock: Clock) -> None:
    first = SqliteLedger(path, clock=clock)
    first.acquire_daemon_lock()
    first.acquire_daemon_lock()  # holding it already is fine
    with SqliteLedger(path, clock=clock) as second:
        message = f"another pushcal daemon is running on {path} (pid {os.getpid()})"
        with pytest.raises(LedgerError) as refused:
            second.acquire_daemon_lock()
        assert str(refused.value) == message
        first.close()
        second.acquire_daemon_lock()
        second.recover()


def _hold_lock_forever(path: pathlib.Path, ready: Any) -> None:
    ledger = SqliteLedger(path, clock=lambda: T0)
    ledger.acquire_daemon_lock()
    ready.set()
    threading.Event().wait()  # until killed


def test_a_killed_daemon_releases_the_lock(path: pathlib.Path, clock: Clock) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_hold_lock_forever, args=(path, ready), daemon=True)
    child.start()
    try:
        assert ready.wait(timeout=120), "the child never took the lock"
        with SqliteLedger(path, clock=clock) as ledger:
            with pytest.raises(LedgerError, match=f"\\(pid {child.pid}\\)$"):
                ledger.acquire_daemon_lock()
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            child.join()
            assert child.exitcode == -signal.SIGKILL
            ledger.acquire_daemon_lock()
    finally:
        if child.is_alive():
            child.kill()
            child.join()


# --- files that are not ledgers ---------------------------------------------------------------


def _foreign_sqlite(path: pathlib.Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()


def _damaged_ledger(path: pathlib.Path) -> None:
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        claim(ledger)
    data = bytearray(path.read_bytes())
    data[16:100] = b"\xff" * 84  # the header after the magic string: page size and the rest
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_text("posts:\n  - id: launch\n"), "it is not an SQLite database"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50), "damaged"),
    (_foreign_sqlite, "it is another SQLite database"),
    (_damaged_ledger, "damaged"),
], ids=["yaml", "truncated", "foreign", "damaged"])
def test_a_file_that_is_not_a_ledger_is_refused_and_left_alone(
        tmp_path: pathlib.Path, make: Callable[[pathlib.Path], None], reason: str) -> None:
    path = tmp_path / "ledger.sqlite"
    make(path)
    before = path.read_bytes()
    others = sorted(tmp_path.iterdir())
    with pytest.raises(LedgerError, match=f"^{re.escape(str(path))} is not a pushcal ledger.*{reason}"):
        SqliteLedger(path, clock=lambda: T0)
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == others


def test_a_directory_is_not_a_ledger(tmp_path: pathlib.Path) -> None:
    with pytest.raises(LedgerError, match="it is not a file"):
        SqliteLedger(tmp_path, clock=lambda: T0)


def test_an_empty_file_becomes_a_ledger(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.touch()
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        assert claim(ledger) is not None


# --- races ----------------------------------------------------------------------------------


def test_two_instances_racing_in_threads_claim_each_key_once(path: pathlib.Path) -> None:
    keys = [f"post-{n}" for n in range(200)]
    won: dict[int, list[str]] = {0: [], 1: []}
    start = threading.Barrier(2, timeout=60)  # a failing racer must not hang the other

    def race(side: int) -> None:
        with SqliteLedger(path, clock=lambda: T0) as ledger:
            start.wait()
            won[side] = [key for key in keys if claim(ledger, key) is not None]

    threads = [threading.Thread(target=race, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won[0] + won[1]) == sorted(keys)
    assert not set(won[0]) & set(won[1])


def _claim_all(path: pathlib.Path, keys: list[str], seed: int, start: Any, out: Any) -> None:
    try:
        out.put(_race_for(path, keys, seed, start))
    except BaseException as exc:  # reported, so the parent fails at once instead of waiting
        out.put(f"racer {seed} failed: {exc!r}")


def _race_for(path: pathlib.Path, keys: list[str], seed: int, start: Any) -> list[str]:
    order = random.Random(seed).sample(keys, len(keys))
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        start.wait()
        if seed % 2:  # half the racers claim in batches, as the daemon does
            batches = [order[i:i + 10] for i in range(0, len(order), 10)]
            rows = [row for batch in batches for row in ledger.claim_many(
                [ClaimRequest(key, key, "acme-page", DUE, ENDPOINT, "h", None) for key in batch])]
        else:
            rows = [claim(ledger, key) for key in order]
    return [row.key for row in rows if row is not None]


def test_processes_racing_for_the_same_keys_claim_each_exactly_once(path: pathlib.Path) -> None:
    racers = 4
    keys = [f"post-{n}" for n in range(200)]
    SqliteLedger(path, clock=lambda: T0).close()  # created once, so every racer opens a ledger
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(racers, timeout=120), context.Queue()
    processes = [context.Process(target=_claim_all, args=(path, keys, seed, start, out))
                 for seed in range(racers)]
    for process in processes:
        process.start()
    won = [out.get(timeout=300) for _ in processes]
    for process in processes:
        process.join()
    assert [process.exitcode for process in processes] == [0] * racers
    assert [result for result in won if isinstance(result, str)] == []
    assert sorted(key for keys_won in won for key in keys_won) == sorted(keys)
    with SqliteLedger(path, clock=lambda: T0) as ledger:
        assert {row.attempts for row in ledger.rows()} == {1}
        assert len(ledger.history()) == len(keys)
