"""The daemon's pulse on a shared ledger when the database goes away and comes back: it
refuses to claim meanwhile, logs every reconnection attempt, resumes, and the claim that
was in flight when the session died is reaped as `unknown`. A real PostgreSQL server, really
stopped and started again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import closing

import pytest
from ledger_kit import T0, claim, put
from pg_server import PASSWORD, Server

from runner.daemon import CapturedLog
from runner.daemon.liveness import Liveness
from runner.ledger import LedgerUnavailable, Row, State
from runner.ledger.location import DatabaseUrl
from runner.ledger.postgres import PostgresLedger


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(600):  # a generous bound: a loaded machine restarts PostgreSQL slowly
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def test_a_database_restart_stops_claims_then_the_daemon_reconnects_and_resumes(
        pg_server: Server, pg_url: str) -> None:
    log = CapturedLog()
    reaped: list[Row] = []
    resumed: list[bool] = []
    with closing(PostgresLedger(DatabaseUrl(pg_url), clock=lambda: T0)) as ledger:
        ledger.acquire_daemon_lock()
        put(ledger, State.SENDING, "in-flight")
        pulse = Liveness(ledger, log, every=0.05, on_reaped=reaped.append,
                         on_back=lambda: resumed.append(True), on_tick=lambda: None)

        async def scenario() -> None:
            task = asyncio.create_task(pulse.run())
            try:
                await asyncio.to_thread(pg_server.stop)
                await until(lambda: len(log.named("ledger-reconnect-failed")) >= 2, "retries")
                with pytest.raises(LedgerUnavailable):
                    claim(ledger, "while-away")  # nothing is claimed, so nothing is sent
                await asyncio.to_thread(pg_server.start)
                await until(lambda: bool(resumed), "resumed")
                await until(lambda: bool(reaped), "the dead session's claim reaped")
            finally:
                task.cancel()

        asyncio.run(scenario())
        assert [row.key for row in reaped] == ["in-flight"]
        assert reaped[0].state is State.UNKNOWN and "session ended" in reaped[0].info
        assert log.named("ledger-lost")[0]["doing"] == "not claiming; reconnecting"
        delays = [fields["next_in"] for fields in log.named("ledger-reconnect-failed")]
        assert delays[:3] == [0.2, 0.4, 0.8][:len(delays[:3])]  # backing off
        assert log.named("ledger-back")[0]["attempts"] == len(delays) + 1
        assert claim(ledger, "after") is not None
        assert PASSWORD not in repr(log.events)
