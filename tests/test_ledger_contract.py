"""The ledger contract, run against every backend: each transition allowed and refused,
durability across reopening, recovery, resolution, reading, and racing claimers.

The `backend` fixture (tests/ledger_kit.py) runs each test on SQLite and on a real
PostgreSQL server; what only one backend has (SQLite's files and locks, PostgreSQL's
peers) is tested in test_ledger.py and test_ledger_postgres.py.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from ledger_kit import (
    DUE,
    ENDPOINT,
    RECORDED,
    T0,
    Backend,
    Clock,
    backend,
    claim,
    clock,
    ledger,
    mark,
    put,
)

from runner.errors import PushcalError
from runner.ledger import CLAIMABLE, ClaimRequest, Ledger, LedgerError, Row, State
from runner.ledger.contract import MARK_OVER
from runner.ledger.location import StateLocation, open_ledger

__all__ = ["backend", "clock", "ledger"]  # fixtures, imported to be found


# --- opening -------------------------------------------------------------------------------


def test_many_openers_creating_one_ledger_at_once_all_succeed(backend: Backend) -> None:
    start = threading.Barrier(8, timeout=60)
    opened: list[bool] = []

    def open_it() -> None:
        start.wait()
        with closing(backend.open()) as ledger:
            opened.append(ledger.counts()[State.SENT] == 0)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == [True] * 8


def test_a_new_ledger_starts_empty(ledger: Ledger) -> None:
    assert ledger.counts() == dict.fromkeys(State, 0)
    assert ledger.rows() == []
    assert ledger.history() == []
    assert ledger.daemons() == [] and ledger.beat() == []


def test_states_are_strings_and_know_which_are_terminal() -> None:
    assert [state.value for state in State] == [
        "planned", "sending", "sent", "accepted", "retry_wait", "failed", "unknown", "missed",
        "cancelled"]
    assert isinstance(State.SENT, str) and State("sent") is State.SENT
    assert str(State.RETRY_WAIT) == f"{State.RETRY_WAIT}" == "retry_wait"
    assert {state for state in State if state.terminal} == {
        State.SENT, State.FAILED, State.MISSED, State.CANCELLED}


def test_everything_survives_close_and_reopen(backend: Backend, clock: Clock) -> None:
    with closing(backend.open(clock)) as first:
        claim(first, "launch")
        first.record_step("launch", "acme-page", "upload launch-photo", "1122")
        first.finish("launch", "acme-page", State.SENT, http_status=200, remote_id="77_88",
                     location="https://www.facebook.com/77_88", info="ok")
        mark(first, State.MISSED, "recap")
        before_rows, before_events = first.rows(), first.history()
    with closing(backend.open(clock)) as second:
        assert second.rows() == before_rows
        assert second.history() == before_events
        sent = second.get("launch", "acme-page")
        assert sent is not None and sent.remote_id == "77_88"
        assert dict(sent.steps) == {"upload launch-photo": "1122"}


# --- claim ---------------------------------------------------------------------------------


def test_claiming_a_new_row_takes_it_into_sending(ledger: Ledger, clock: Clock) -> None:
    clock.now = T0 + timedelta(seconds=1, microseconds=234567)
    row = claim(ledger)
    assert row == Row(
        key="launch", entry="launch", account="acme-page", state=State.SENDING, scheduled=DUE,
        endpoint=ENDPOINT, attempts=1, claimed=T0 + timedelta(seconds=1, milliseconds=234),
        finished=None, next_attempt=None, remote_id=None, location=None, http_status=None,
        info="", calendar_hash="h1", commit="abc123", steps={})
    assert ledger.get("launch", "acme-page") == row


def test_a_claim_is_visible_to_another_instance_at_once(backend: Backend, clock: Clock) -> None:
    with closing(backend.open(clock)) as one, closing(backend.open(clock)) as two:
        assert claim(one) is not None
        assert claim(two) is None
        row = two.get("launch", "acme-page")
        assert row is not None and row.state is State.SENDING


@pytest.mark.parametrize("state", sorted(CLAIMABLE & RECORDED))
def test_planned_retry_wait_and_cancelled_rows_are_claimed_again(ledger: Ledger, clock: Clock,
                                                       state: State) -> None:
    before = put(ledger, state)
    clock.advance(600)
    row = claim(ledger, calendar_hash="h2", commit=None, endpoint="facebook/post")
    assert row is not None and row.state is State.SENDING
    assert row.attempts == before.attempts + 1
    assert (row.claimed, row.next_attempt, row.finished) == (clock.now, None, None)
    assert (row.calendar_hash, row.commit, row.endpoint) == ("h2", None, "facebook/post")


@pytest.mark.parametrize("state", [s for s in RECORDED if s not in CLAIMABLE])
def test_every_other_state_refuses_a_claim(ledger: Ledger, state: State) -> None:
    before = put(ledger, state)
    assert claim(ledger) is None
    assert ledger.get("launch", "acme-page") == before


@pytest.mark.parametrize("state", [State.FAILED, State.MISSED, State.CANCELLED])
def test_a_forced_claim_takes_rows_that_never_reached_oneall(ledger: Ledger,
                                                             state: State) -> None:
    put(ledger, state)
    row = claim(ledger, force_retry=True)
    assert row is not None and row.state is State.SENDING
    assert ledger.history()[-1].info.endswith("(forced)")


@pytest.mark.parametrize("state", [State.SENDING, State.SENT, State.UNKNOWN])
def test_not_even_a_forced_claim_takes_what_may_have_been_posted(ledger: Ledger,
                                                                state: State) -> None:
    before = put(ledger, state)
    assert claim(ledger, force_retry=True) is None
    assert ledger.get("launch", "acme-page") == before


def test_claim_many_claims_in_order_and_refuses_what_is_taken(ledger: Ledger) -> None:
    requests = [ClaimRequest(key, key, "acme-x", DUE, "twitter/post", "h1", None)
                for key in ("new", "old", "retry", "new")]
    put(ledger, State.SENT, "old", "acme-x")
    put(ledger, State.RETRY_WAIT, "retry", "acme-x")
    results = ledger.claim_many(requests)
    assert [None if row is None else (row.key, row.attempts) for row in results] == [
        ("new", 1), None, ("retry", 2), None]


def test_claim_many_is_one_transaction(ledger: Ledger) -> None:
    naive = datetime(2026, 12, 1, 8, 0)
    good = ClaimRequest("a", "a", "acme-x", DUE, "twitter/post", "h1", None)
    bad = ClaimRequest("b", "b", "acme-x", naive, "twitter/post", "h1", None)
    with pytest.raises(ValueError, match="aware"):
        ledger.claim_many([good, bad])
    assert ledger.rows() == [] and ledger.history() == []


# --- steps and finish -----------------------------------------------------------------------


def test_steps_are_recorded_read_back_and_kept_for_the_retry(ledger: Ledger) -> None:
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
def test_only_a_sending_row_records_steps(ledger: Ledger, state: State) -> None:
    put(ledger, state)
    with pytest.raises(LedgerError, match=f"it is {state.value}, not sending"):
        ledger.record_step("launch", "acme-page", "upload", "1")


@pytest.mark.parametrize("state", [State.SENT, State.FAILED, State.UNKNOWN, State.RETRY_WAIT])
def test_a_sending_row_finishes_in_any_outcome(ledger: Ledger, clock: Clock,
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
def test_finishing_a_row_that_is_not_sending_is_refused(ledger: Ledger,
                                                        state: State) -> None:
    before = put(ledger, state)
    with pytest.raises(LedgerError, match=f"cannot finish 'launch' on account 'acme-page': "
                                          f"it is {state.value}, not sending"):
        ledger.finish("launch", "acme-page", State.SENT)
    assert ledger.get("launch", "acme-page") == before


@pytest.mark.parametrize("state", [State.SENDING, State.MISSED, State.CANCELLED])
def test_finish_refuses_states_that_are_not_outcomes(ledger: Ledger, state: State) -> None:
    claim(ledger)
    with pytest.raises(LedgerError, match=f"cannot set {state.value}"):
        ledger.finish("launch", "acme-page", state)
    row = ledger.get("launch", "acme-page")
    assert row is not None and row.state is State.SENDING


def test_finish_wants_next_attempt_exactly_for_retry_wait(ledger: Ledger) -> None:
    claim(ledger)
    with pytest.raises(LedgerError, match="next_attempt"):
        ledger.finish("launch", "acme-page", State.RETRY_WAIT)
    with pytest.raises(LedgerError, match="next_attempt"):
        ledger.finish("launch", "acme-page", State.SENT, next_attempt=T0)
    with pytest.raises(LedgerError, match="nothing is recorded for 'nope'"):
        ledger.finish("nope", "acme-page", State.SENT)


def test_an_accepted_row_is_concluded_once(ledger: Ledger, clock: Clock) -> None:
    put(ledger, State.ACCEPTED)
    assert claim(ledger, force_retry=True) is None  # never uploaded twice
    clock.advance(30)
    row = ledger.conclude("launch", "acme-page", State.SENT, info="callback: published",
                          remote_id="v-9", location="https://youtu.be/v-9")
    assert row is not None
    assert (row.state, row.remote_id, row.location, row.finished) == (
        State.SENT, "v-9", "https://youtu.be/v-9", clock.now)
    assert ledger.conclude("launch", "acme-page", State.FAILED, info="a replay") is None
    with pytest.raises(LedgerError, match="conclude"):
        ledger.conclude("launch", "acme-page", State.RETRY_WAIT, info="no")


# --- mark ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.MISSED, State.CANCELLED])
def test_mark_records_a_row_that_never_existed(ledger: Ledger, clock: Clock,
                                               state: State) -> None:
    assert mark(ledger, state)
    row = ledger.get("launch", "acme-page")
    assert row is not None
    assert (row.state, row.attempts, row.info, row.finished) == (
        state, 0, f"{state.value} by policy", clock.now)


@pytest.mark.parametrize("before", sorted(MARK_OVER & RECORDED))
@pytest.mark.parametrize("state", [State.MISSED, State.CANCELLED])
def test_mark_overrides_planned_and_retry_wait(ledger: Ledger, before: State,
                                               state: State) -> None:
    put(ledger, before)
    assert mark(ledger, state)
    row = ledger.get("launch", "acme-page")
    assert row is not None and (row.state, row.next_attempt) == (state, None)
    assert ledger.history()[-1].from_state is before


@pytest.mark.parametrize("before", [s for s in RECORDED if s not in MARK_OVER])
@pytest.mark.parametrize("state", [State.MISSED, State.CANCELLED])
def test_mark_never_overrides_anything_else(ledger: Ledger, before: State,
                                            state: State) -> None:
    row = put(ledger, before)
    events = ledger.history()
    assert not mark(ledger, state)
    assert ledger.get("launch", "acme-page") == row
    assert ledger.history() == events


@pytest.mark.parametrize("state", [s for s in RECORDED if s not in (State.MISSED, State.CANCELLED)])
def test_mark_is_only_for_missed_and_cancelled(ledger: Ledger, state: State) -> None:
    with pytest.raises(LedgerError, match="mark\\(\\) is for missed and cancelled"):
        mark(ledger, state)
    assert ledger.rows() == []


# --- recover and resolve --------------------------------------------------------------------


def test_recover_turns_interrupted_sends_into_unknown(backend: Backend, ledger: Ledger) -> None:
    # The sender is another instance that is gone by the time the daemon starts: a crash.
    with closing(backend.open()) as crashed:
        put(crashed, State.SENDING, "a")
        put(crashed, State.SENDING, "b")
        put(crashed, State.RETRY_WAIT, "c")
        put(crashed, State.SENT, "d")
    ledger.acquire_daemon_lock()
    recovered = ledger.recover()
    assert [(row.key, row.state) for row in recovered] == [("a", State.UNKNOWN),
                                                          ("b", State.UNKNOWN)]
    assert all("interrupted while sending" in row.info for row in recovered)
    assert ledger.counts() == dict.fromkeys(State, 0) | {
        State.UNKNOWN: 2, State.RETRY_WAIT: 1, State.SENT: 1}
    assert ledger.recover() == []


def test_recover_needs_the_daemon_lock(ledger: Ledger) -> None:
    put(ledger, State.SENDING)
    with pytest.raises(LedgerError, match="needs the daemon lock"):
        ledger.recover()
    assert ledger.counts()[State.SENDING] == 1


def test_resolve_as_sent(ledger: Ledger, clock: Clock) -> None:
    put(ledger, State.UNKNOWN, "launch")
    clock.advance(3600)
    [row] = ledger.resolve("launch", "acme-page", sent=True)
    assert (row.state, row.info, row.finished) == (State.SENT, "resolved by hand: sent", clock.now)
    assert claim(ledger) is None


def test_resolve_as_not_sent_makes_it_due_again(ledger: Ledger, clock: Clock) -> None:
    put(ledger, State.UNKNOWN, "launch")
    clock.advance(3600)
    [row] = ledger.resolve("launch", "acme-page", sent=False)
    assert (row.state, row.info, row.next_attempt) == (
        State.RETRY_WAIT, "resolved by hand: not sent", clock.now)
    assert ledger.rows(states=[State.RETRY_WAIT]) == [row]
    again = claim(ledger)
    assert again is not None and again.attempts == 2


def test_resolve_takes_all_unknown_rows_of_an_entry_or_the_one_key(ledger: Ledger) -> None:
    for key in ("weekly@2026-12-01", "weekly@2026-12-08", "weekly@2026-12-15"):
        put(ledger, State.UNKNOWN, key)
    [one] = ledger.resolve("weekly", "acme-page", sent=True, key="weekly@2026-12-08")
    assert one.key == "weekly@2026-12-08"
    rest = ledger.resolve("weekly", "acme-page", sent=False)
    assert [row.key for row in rest] == ["weekly@2026-12-01", "weekly@2026-12-15"]
    assert ledger.counts()[State.UNKNOWN] == 0


def test_resolve_without_an_unknown_row_says_what_exists(ledger: Ledger) -> None:
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


def test_rows_filter_and_sort(ledger: Ledger) -> None:
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


def test_keys_in_can_ask_about_some_keys_only(ledger: Ledger) -> None:
    keys = [f"post-{n:04d}" for n in range(1200)]  # more than one chunk of lookups
    ledger.claim_many([ClaimRequest(k, k, "acme-x", DUE, ENDPOINT, "h", None) for k in keys])
    for key in keys[::2]:
        ledger.finish(key, "acme-x", State.SENT)
    asked = [*keys[:700], "never-claimed"]
    assert ledger.keys_in([State.SENT], keys=asked) == {(k, "acme-x") for k in keys[:700:2]}
    assert ledger.keys_in([State.SENDING], keys=[]) == set()
    assert len(ledger.keys_in([State.SENDING], keys=keys)) == 600


def test_history_keeps_every_change_of_a_row(ledger: Ledger, clock: Clock) -> None:
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


def test_times_are_stored_in_utc_to_the_millisecond(ledger: Ledger, clock: Clock) -> None:
    clock.now = datetime(2026, 12, 1, 9, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1)))
    row = claim(ledger, scheduled=datetime(2026, 12, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))))
    assert row is not None
    assert row.claimed == datetime(2026, 12, 1, 8, 0, 0, 999000, tzinfo=UTC)
    assert row.scheduled == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert row.scheduled.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="aware"):
        claim(ledger, "naive", scheduled=datetime(2026, 12, 1, 8, 0))


# --- races ----------------------------------------------------------------------------------


def test_two_instances_racing_in_threads_claim_each_key_once(backend: Backend) -> None:
    keys = [f"post-{n}" for n in range(200)]
    won: dict[int, list[str]] = {0: [], 1: []}
    start = threading.Barrier(2, timeout=60)  # a failing racer must not hang the other

    def race(side: int) -> None:
        with closing(backend.open()) as ledger:
            start.wait()
            won[side] = [key for key in keys if claim(ledger, key) is not None]

    threads = [threading.Thread(target=race, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won[0] + won[1]) == sorted(keys)
    assert not set(won[0]) & set(won[1])


def _claim_all(where: StateLocation, keys: list[str], seed: int, start: Any, out: Any) -> None:
    try:
        out.put(_race_for(where, keys, seed, start))
    except BaseException as exc:  # reported, so the parent fails at once instead of waiting
        out.put(f"racer {seed} failed: {exc!r}")


def _race_for(where: StateLocation, keys: list[str], seed: int, start: Any) -> list[str]:
    order = random.Random(seed).sample(keys, len(keys))
    opened = open_ledger(where, lambda: T0)
    assert opened is not None
    with closing(opened) as ledger:
        start.wait()
        if seed % 2:  # half the racers claim in batches, as the daemon does
            batches = [order[i:i + 10] for i in range(0, len(order), 10)]
            rows = [row for batch in batches for row in ledger.claim_many(
                [ClaimRequest(key, key, "acme-page", DUE, ENDPOINT, "h", None) for key in batch])]
        else:
            rows = [claim(ledger, key) for key in order]
    return [row.key for row in rows if row is not None]


def test_processes_racing_for_the_same_keys_claim_each_exactly_once(backend: Backend) -> None:
    racers = 4
    keys = [f"post-{n}" for n in range(200)]
    backend.open().close()  # created once, so every racer opens a ledger
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(racers, timeout=120), context.Queue()
    processes = [context.Process(target=_claim_all, args=(backend.where, keys, seed, start, out))
                 for seed in range(racers)]
    for process in processes:
        process.start()
    won = [out.get(timeout=300) for _ in processes]
    for process in processes:
        process.join()
    assert [process.exitcode for process in processes] == [0] * racers
    assert [result for result in won if isinstance(result, str)] == []
    assert sorted(key for keys_won in won for key in keys_won) == sorted(keys)
    with closing(backend.open()) as ledger:
        assert {row.attempts for row in ledger.rows()} == {1}
        assert len(ledger.history()) == len(keys)
