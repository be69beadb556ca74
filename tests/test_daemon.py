"""The daemon in-process: a real `Daemon`, a real SQLite ledger, a sandbox on a loopback port.

Each test plays a few seconds of a calendar (or days of one, on a scaled clock) and then looks
at what the sandbox created and what the ledger recorded. Negative claims ("not sent") are
checked after a later sentinel post on the same account was sent: account queues are
first-in first-out, so anything that was going to be sent before it has been by then.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time as time_module
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from daemon_kit import (
    ACCOUNTS,
    Rig,
    calendar,
    created,
    duplicates,
    messages,
    post,
    received,
    soon,
    stamp,
)

from runner.cli import Context, main
from runner.clock import ScaledClock
from runner.daemon import Daemon
from runner.delivery import Sender
from runner.ledger import LedgerError, SqliteLedger, State
from runner.oneall import Reply
from runner.sandbox import SANDBOX_PRIVATE_KEY, Faults, Received, Sandbox

ALL = ("page", "tw", "group")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def rig(tmp_path: Path, sandbox: Sandbox) -> Rig:
    return Rig(tmp_path, sandbox)


def switching_off(faults: Faults) -> Sandbox:
    """A sandbox that injects `faults` into the first push request only."""
    box: list[Sandbox] = []

    def after_first(record: Received) -> None:
        if record.fault is not None:
            box[0].set_faults(Faults())

    box.append(Sandbox(faults=faults, listener=after_first))
    return box[0]


def test_posts_due_soon_are_each_sent_once_per_account(rig: Rig, sandbox: Sandbox) -> None:
    rig.write(calendar([post("alpha", soon(1), ALL), post("beta", soon(1.5), ["tw"]),
                        post("gamma", soon(2), ["page", "group"])]))
    pairs = [("alpha", a) for a in ALL] + [("beta", "tw"), ("gamma", "page"), ("gamma", "group")]

    log = asyncio.run(rig.run(rig.settled(*pairs)))

    assert created(sandbox) == Counter(dict.fromkeys(pairs, 1))
    assert len(sandbox.received()) == len(pairs)
    assert duplicates(sandbox) == []
    rows = rig.rows()
    assert sorted(rows) == sorted(pairs)
    remote_ids = {r.created for r in sandbox.created()}
    for pair in pairs:
        row = rows[pair]
        assert (row.state, row.attempts, row.http_status) == (State.SENT, 1, 200), row
        assert row.remote_id in remote_ids
    assert log.count(" delivered ") == len(pairs)
    assert SANDBOX_PRIVATE_KEY not in log
    assert SANDBOX_PRIVATE_KEY.encode() not in rig.state.read_bytes()


def test_a_broken_reload_keeps_the_last_valid_calendar(rig: Rig, sandbox: Sandbox) -> None:
    alpha = post("alpha", soon(1.5), ["page", "tw"])
    rig.write(calendar([alpha]))

    async def break_it(daemon: Daemon) -> None:
        rig.write(calendar([{**alpha, "to": ["page", "ghost"]}]))
        assert await daemon.reload("test") is False

    log = asyncio.run(rig.run(rig.settled(("alpha", "page"), ("alpha", "tw")), script=break_it))

    assert rig.events.has("reload-rejected", reason="test", problems=1)
    assert f"problem text=\"{rig.path}:" in log
    assert "unknown account 'ghost'" in log
    assert created(sandbox) == Counter({("alpha", "page"): 1, ("alpha", "tw"): 1})
    assert {r.state for r in rig.rows().values()} == {State.SENT}


def test_the_file_watcher_rejects_a_broken_edit_and_keeps_sending(rig: Rig,
                                                                   sandbox: Sandbox) -> None:
    rig.write(calendar([post("alpha", soon(2), ["page"])]))

    async def break_it(daemon: Daemon) -> None:
        rig.write('{"version": 1, "posts": [')
        await rig.wait_for_log('reload-rejected reason="file change"')

    log = asyncio.run(rig.run(rig.settled(("alpha", "page")), script=break_it,
                              watch_interval=0.1))

    assert 'reload-rejected reason="file change" problems=' in log
    assert f"problem text=\"{rig.path}:" in log
    assert created(sandbox) == Counter({("alpha", "page"): 1})
    assert rig.rows()[("alpha", "page")].state is State.SENT


@pytest.mark.parametrize("how", ["deleted", "disabled"])
def test_an_entry_removed_before_its_time_is_not_sent(rig: Rig, sandbox: Sandbox,
                                                      how: str) -> None:
    alpha, omega = post("alpha", soon(1.5), ["page", "tw"]), post("omega", soon(2), ["page", "tw"])
    rig.write(calendar([alpha, omega]))
    edited = [omega] if how == "deleted" else [{**alpha, "enabled": False}, omega]

    async def remove(daemon: Daemon) -> None:
        rig.write(calendar(edited))
        assert await daemon.reload("test") is True

    log = asyncio.run(rig.run(rig.settled(("omega", "page"), ("omega", "tw")), script=remove))

    assert "reloaded reason=test" in log
    assert created(sandbox) == Counter({("omega", "page"): 1, ("omega", "tw"): 1})
    assert received(sandbox)[("alpha", "page")] == received(sandbox)[("alpha", "tw")] == 0
    rows = rig.rows()
    assert [(rows[("alpha", a)].state, rows[("alpha", a)].attempts) for a in ("page", "tw")] == [
        (State.CANCELLED, 0)] * 2  # recorded, so status and history can say what happened
    assert rig.events.has("cancelled", entry="alpha", key="alpha", account="page")


def test_a_cancelled_entry_that_comes_back_is_sent(rig: Rig, sandbox: Sandbox) -> None:
    alpha, omega = post("alpha", soon(2), ["tw"]), post("omega", soon(2.5), ["tw"])
    rig.write(calendar([alpha, omega]))

    async def toggle(daemon: Daemon) -> None:
        rig.write(calendar([{**alpha, "enabled": False}, omega]))
        assert await daemon.reload("off") is True
        rig.write(calendar([alpha, omega]))
        assert await daemon.reload("on") is True

    asyncio.run(rig.run(rig.settled(("alpha", "tw"), ("omega", "tw")), script=toggle))
    assert created(sandbox) == Counter({("alpha", "tw"): 1, ("omega", "tw"): 1})
    assert rig.rows()[("alpha", "tw")].state is State.SENT


def test_a_changed_text_is_sent_as_it_is_now(rig: Rig, sandbox: Sandbox) -> None:
    due = soon(1.5)
    rig.write(calendar([post("alpha", due, ["page", "tw"], "old words")]))

    async def edit(daemon: Daemon) -> None:
        rig.write(calendar([post("alpha", due, ["page", "tw"], "new words")]))
        assert await daemon.reload("test") is True

    asyncio.run(rig.run(rig.settled(("alpha", "page"), ("alpha", "tw")), script=edit))

    sent = messages(sandbox)
    assert len(sent) == 2
    assert all("[alpha] new words" in text for text in sent)
    assert not any("old words" in str(r.body) for r in sandbox.received())


def test_a_sent_one_off_moved_to_the_future_is_not_sent_again(rig: Rig,
                                                              sandbox: Sandbox) -> None:
    rig.write(calendar([post("alpha", soon(0.5), ["page", "tw"])]))
    asyncio.run(rig.run(rig.settled(("alpha", "page"), ("alpha", "tw"))))
    first = rig.rows()

    rig.write(calendar([post("alpha", soon(0.5), ["page", "tw"]),
                        post("omega", soon(1), ["page", "tw"])]))
    asyncio.run(rig.run(rig.settled(("omega", "page"), ("omega", "tw"))))

    assert created(sandbox) == Counter({("alpha", "page"): 1, ("alpha", "tw"): 1,
                                        ("omega", "page"): 1, ("omega", "tw"): 1})
    assert duplicates(sandbox) == []
    after = rig.rows()
    for account in ("page", "tw"):
        assert after[("alpha", account)] == first[("alpha", account)]


def test_a_daily_post_retimed_after_it_went_out_is_not_sent_again_that_day(
        rig: Rig, sandbox: Sandbox) -> None:
    first_at = soon(0.5)
    day = datetime.fromisoformat(first_at).astimezone(ZoneInfo("Europe/Berlin")).date()
    key = f"tip@{day.isoformat()}"
    rig.write(calendar([post("tip", first_at, ["tw"], repeat={"every": "day", "count": 2})]))
    asyncio.run(rig.run(rig.settled((key, "tw"))))

    # Later the same day the team moves the daily slot a little later, and adds a sentinel.
    rig.write(calendar([post("tip", soon(1), ["tw"], repeat={"every": "day", "count": 2}),
                        post("omega", soon(1.5), ["tw"])]))
    asyncio.run(rig.run(rig.settled(("omega", "tw"))))

    assert created(sandbox)[("tip", "tw")] == 1
    assert duplicates(sandbox) == []


DST_DAYS = [("Europe/Berlin", date(2026, 3, 29)), ("Europe/Berlin", date(2026, 10, 25)),
            ("America/New_York", date(2026, 3, 8)), ("America/New_York", date(2026, 11, 1))]
SPEED = 200_000.0  # four days in under two seconds; a day's grace is 0.43 s of real time


async def _rehearse(folder: Path, sandbox: Sandbox, zone: str, change: date) -> Rig:
    """Play a daily 09:00 entry from two days before `change` to two days after."""
    folder.mkdir()
    rig = Rig(folder, sandbox)
    tz, first = ZoneInfo(zone), change - timedelta(days=2)
    entry = f"daily-{change:%m%d}"
    rig.write(calendar([post(entry, f"{first} 09:00", ["tw"], repeat={
        "every": "day", "until": "2026-12-31"}, grace="1d")], zone=zone))
    start = datetime.combine(first, time(0), tz)
    until = datetime.combine(first + timedelta(days=4), time(0), tz)
    clock = ScaledClock(start.astimezone(UTC), SPEED)
    await rig.run(clock=clock, until=until.astimezone(UTC))
    return rig


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_a_daily_post_stays_at_nine_local_across_both_dst_changes(tmp_path: Path,
                                                                  sandbox: Sandbox,
                                                                  zone: str) -> None:
    changes = [day for z, day in DST_DAYS if z == zone]

    async def both() -> list[Rig]:
        return list(await asyncio.gather(*(_rehearse(tmp_path / str(day), sandbox, zone, day)
                                           for day in changes)))

    tz = ZoneInfo(zone)
    for change, rig in zip(changes, asyncio.run(both()), strict=True):
        rows = sorted(rig.rows().values(), key=lambda r: r.scheduled)
        days = [change + timedelta(days=n) for n in (-2, -1, 0, 1)]
        entry = f"daily-{change:%m%d}"
        assert [r.key for r in rows] == [f"{entry}@{day}" for day in days]
        assert [r.scheduled.astimezone(tz).replace(tzinfo=None) for r in rows] == [
            datetime.combine(day, time(9)) for day in days]
        assert len({r.scheduled.astimezone(tz).utcoffset() for r in rows}) == 2
        assert [r.state for r in rows] == [State.SENT] * 4, [r.info for r in rows]
        assert created(sandbox)[(entry, "tw")] == 4


def test_lateness_sends_within_grace_once_and_marks_older_missed(rig: Rig,
                                                                 sandbox: Sandbox) -> None:
    now = datetime.now(UTC)
    rig.write(calendar([
        post("recent", stamp(now - timedelta(minutes=5)), ["page"], grace="15m"),
        post("old", stamp(now - timedelta(hours=2)), ["page"], grace="15m")]))

    asyncio.run(rig.run(rig.settled(("recent", "page"), ("old", "page"))))

    rows = rig.rows()
    assert sorted(rows) == [("old", "page"), ("recent", "page")]
    recent, old = rows[("recent", "page")], rows[("old", "page")]
    assert (recent.state, recent.attempts) == (State.SENT, 1)
    assert recent.claimed is not None and recent.claimed - recent.scheduled >= timedelta(minutes=5)
    assert old.state is State.MISSED and "grace 15m" in old.info
    assert created(sandbox) == Counter({("recent", "page"): 1})
    assert len(sandbox.received()) == 1
    assert rig.events.has("catching-up", occurrences=2)


def test_a_503_is_retried_later_and_sent_exactly_once(tmp_path: Path) -> None:
    with switching_off(Faults(fail_rate=1.0, fail_codes=("503",))) as box:
        rig = Rig(tmp_path, box)
        # Ten times faster than real time, so the backoff of a few seconds takes a few tenths.
        clock = ScaledClock(datetime.now(UTC), 10.0)
        rig.write(calendar([post("alpha", soon(10), ["tw"])]))

        asyncio.run(rig.run(rig.settled(("alpha", "tw")), clock=clock))

        row = rig.rows()[("alpha", "tw")]
        assert (row.state, row.attempts) == (State.SENT, 2)
        with SqliteLedger(rig.state, clock=clock.now) as ledger:
            moves = [e.to_state for e in ledger.history(key="alpha", account="tw")]
        assert moves == [State.SENDING, State.RETRY_WAIT, State.SENDING, State.SENT]
        assert [r.status for r in box.received()] == [503, 200]
        assert created(box) == Counter({("alpha", "tw"): 1})


def test_a_read_timeout_is_unknown_and_never_resent(tmp_path: Path) -> None:
    with switching_off(Faults(fail_rate=1.0, fail_codes=("timeout",), hang_s=3.0)) as box:
        rig = Rig(tmp_path, box)
        rig.write(calendar([post("alpha", soon(0.5), ["tw"]), post("omega", soon(1), ["tw"])]))
        log = asyncio.run(rig.run(rig.settled(("alpha", "tw"), ("omega", "tw")),
                                  read_timeout=0.5))
        rig.write(calendar([post("alpha", soon(0.5), ["tw"]), post("omega", soon(0.5), ["tw"]),
                            post("zeta", soon(1), ["tw"])]))
        asyncio.run(rig.run(rig.settled(("zeta", "tw"))))

        rows = rig.rows()
        alpha = rows[("alpha", "tw")]
        assert (alpha.state, alpha.attempts, alpha.remote_id) == (State.UNKNOWN, 1, None)
        assert "may have been acted on" in alpha.info
        assert "state=unknown" in log
        assert rows[("omega", "tw")].state is rows[("zeta", "tw")].state is State.SENT
        assert received(box)[("alpha", "tw")] == 1
        assert duplicates(box) == []


def test_a_rate_limited_account_does_not_delay_another(rig: Rig, sandbox: Sandbox) -> None:
    accounts = {"page": {**ACCOUNTS["page"], "rate_limit": "1/m"}, "tw": ACCOUNTS["tw"]}
    rig.write(calendar([post("first", soon(0.5), ["page"]), post("second", soon(0.7), ["page"]),
                        post("other", soon(1), ["tw"])], accounts=accounts))

    asyncio.run(rig.run(rig.settled(("first", "page"), ("other", "tw"))))

    # `second` waits a minute for the page's limit; `other` went out meanwhile, on time.
    assert created(sandbox) == Counter({("first", "page"): 1, ("other", "tw"): 1})
    rows = rig.rows()
    assert rows[("other", "tw")].state is State.SENT
    assert ("second", "page") not in rows


def test_a_second_daemon_on_the_same_ledger_is_refused(rig: Rig, sandbox: Sandbox) -> None:
    rig.write(calendar([post("alpha", soon(3600), ["page"])]))
    with SqliteLedger(rig.state, clock=lambda: datetime.now(UTC)) as first:
        first.acquire_daemon_lock()
        with SqliteLedger(rig.state, clock=lambda: datetime.now(UTC)) as second, \
                pytest.raises(LedgerError) as refused:
            second.acquire_daemon_lock()
        assert str(refused.value) == (f"another pushcal daemon is running on {rig.state} "
                                      f"(pid {os.getpid()})")
        out, err = io.StringIO(), io.StringIO()
        code = main(["run", str(rig.path), "--state", str(rig.state)],
                    Context(env=sandbox.env(), out=out, err=err))
        assert code == 1, err.getvalue()
        assert err.getvalue() == f"pushcal: {refused.value}\n"
    assert sandbox.received() == []


def test_a_stalled_loop_loses_nothing_that_fell_due_meanwhile(rig: Rig, sandbox: Sandbox) -> None:
    # `alpha` lies beyond the first half-second horizon; the loop then blocks for longer,
    # as on a suspended machine, so the next window starts after `alpha`'s time.
    rig.write(calendar([post("alpha", soon(0.8), ["page"])]))

    async def stall(daemon: Daemon) -> None:
        time_module.sleep(1.2)

    asyncio.run(rig.run(rig.settled(("alpha", "page")), script=stall,
                        horizon=timedelta(seconds=0.5)))

    row = rig.rows()[("alpha", "page")]
    assert (row.state, row.attempts) == (State.SENT, 1)
    assert created(sandbox) == Counter({("alpha", "page"): 1})


def test_an_edit_that_moves_a_post_into_the_past_meets_the_lateness_policy(
        rig: Rig, sandbox: Sandbox) -> None:
    now = datetime.now(UTC)
    rig.write(calendar([post("alpha", soon(3600), ["page"]), post("beta", soon(3600), ["page"])]))

    async def move(daemon: Daemon) -> None:
        rig.write(calendar([post("alpha", stamp(now - timedelta(minutes=2)), ["page"]),
                            post("beta", stamp(now - timedelta(hours=2)), ["page"])]))
        assert await daemon.reload("test") is True

    asyncio.run(rig.run(rig.settled(("alpha", "page"), ("beta", "page")), script=move,
                        timeout=5))

    rows = rig.rows()
    assert rows[("alpha", "page")].state is State.SENT
    assert rows[("beta", "page")].state is State.MISSED
    assert created(sandbox) == Counter({("alpha", "page"): 1})
    assert rig.events.has("catching-up", occurrences=2)


def test_a_retry_wait_row_is_retried_after_a_restart(rig: Rig, sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(fail_rate=1.0, fail_codes=("503",)))
    rig.write(calendar([post("alpha", soon(10), ["tw"])]))

    def waiting() -> bool:
        row = rig.rows().get(("alpha", "tw"))
        return row is not None and row.state is State.RETRY_WAIT

    asyncio.run(rig.run(waiting, clock=ScaledClock(datetime.now(UTC), 10.0)))
    sandbox.set_faults(Faults())
    asyncio.run(rig.run(rig.settled(("alpha", "tw")), clock=ScaledClock(datetime.now(UTC), 10.0)))

    row = rig.rows()[("alpha", "tw")]
    assert row.state is State.SENT
    assert [r.status for r in sandbox.received()] == [503] * (row.attempts - 1) + [200]
    assert created(sandbox) == Counter({("alpha", "tw"): 1})


@dataclass(frozen=True)
class Exploding:
    """A sender that fails the way a bug would, on requests for messages tagged `[boom]`."""

    inner: Sender

    async def send(self, method: str, path: str, body: Mapping[str, Any] | None, *,
                   lane: str = "") -> Reply:
        if "[boom]" in json.dumps(body):
            raise RuntimeError("a bug between claim and answer")
        return await self.inner.send(method, path, body, lane=lane)


def test_a_bug_while_sending_is_reported_and_the_account_keeps_going(rig: Rig,
                                                                     sandbox: Sandbox) -> None:
    rig.write(calendar([post("boom", soon(0.5), ["tw"]), post("after", soon(1), ["tw"])]))

    log = asyncio.run(rig.run(rig.settled(("boom", "tw"), ("after", "tw")), wrap=Exploding,
                              timeout=5))

    rows = rig.rows()
    assert rows[("after", "tw")].state is State.SENT
    boom = rows[("boom", "tw")]
    assert boom.state is State.UNKNOWN
    assert "RuntimeError('a bug between claim and answer')" in boom.info
    assert " error entry=boom key=boom account=tw error=" in log
    assert created(sandbox) == Counter({("after", "tw"): 1})


def test_grace_zero_still_sends_a_post_that_fires_on_time(rig: Rig, sandbox: Sandbox) -> None:
    rig.write(calendar([post("sharp", soon(0.5), ["tw"], grace="0s")]))
    asyncio.run(rig.run(rig.settled(("sharp", "tw"))))
    assert rig.rows()[("sharp", "tw")].state is State.SENT
    assert created(sandbox) == Counter({("sharp", "tw"): 1})


def test_a_short_horizon_rolls_on_without_losing_or_repeating_a_post(rig: Rig,
                                                                     sandbox: Sandbox) -> None:
    # A 2 s horizon rolls every 0.5 s, in a thread, while posts fire every 0.3 s.
    entries = [post(f"p{i}", soon(0.5 + 0.3 * i), ["tw"]) for i in range(12)]
    rig.write(calendar(entries))
    asyncio.run(rig.run(rig.settled(*((f"p{i}", "tw") for i in range(12))),
                        horizon=timedelta(seconds=2)))
    assert created(sandbox) == Counter({(f"p{i}", "tw"): 1 for i in range(12)})
    assert rig.events.named("skipped") == []  # nothing was scheduled twice
