"""Bursts: claims of posts due at once go to the ledger together, and descriptors suffice.

Only what is about to be sent is claimed: a post queued behind its account's earlier post
is claimed when its turn comes, never ahead (a crash would otherwise turn it `unknown`
though nothing was sent).
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_kit import Rig, calendar, created, post, soon

from runner.daemon.claims import ClaimBatcher
from runner.ledger import ClaimRequest, SqliteLedger, State
from runner.sandbox import Faults, Sandbox

ALL = ("page", "tw", "group")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(faults=Faults(latency_ms=50)) as running:
        yield running


def test_posts_due_at_one_instant_are_claimed_in_one_transaction(tmp_path: Path,
                                                                 sandbox: Sandbox) -> None:
    rig = Rig(tmp_path, sandbox)
    at = soon(1)
    rig.write(calendar([post("alpha", at, ALL), post("beta", at, ["tw"])]))
    pairs = [("alpha", a) for a in ALL] + [("beta", "tw")]

    asyncio.run(rig.run(rig.settled(*pairs)))

    assert created(sandbox) == Counter(dict.fromkeys(pairs, 1))
    rows = rig.rows()
    claimed = {rows[("alpha", a)].claimed for a in ALL}
    assert len(claimed) == 1  # one transaction stamps one moment
    # `beta` waited behind `alpha` on the same account, and was claimed only once its turn
    # came: after alpha's answer, in a second transaction.
    alpha_tw, beta = rows[("alpha", "tw")], rows[("beta", "tw")]
    assert alpha_tw.finished is not None and beta.claimed is not None
    assert beta.claimed >= alpha_tw.finished
    assert rig.daemon is not None and rig.daemon.workers.claims.batches == 2


def test_a_claimer_cancelled_after_its_batch_leaves_its_row_to_a_retry(tmp_path: Path) -> None:
    due = datetime(2026, 12, 1, 8, tzinfo=UTC)
    item = ClaimRequest("launch", "launch", "page", due, "facebook/page/post", "h", None)

    async def cancel_after_the_claim(batcher: ClaimBatcher) -> None:
        task = asyncio.create_task(batcher.claim(item))
        await asyncio.sleep(0)  # the task waits for the batch
        await asyncio.sleep(0)  # the batch claims, the task is woken but has not run
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with SqliteLedger(tmp_path / "ledger.sqlite", clock=lambda: due) as ledger:
        batcher = ClaimBatcher(ledger)
        asyncio.run(cancel_after_the_claim(batcher))
        row = ledger.get("launch", "page")
        assert batcher.batches == 1
        assert row is not None and row.state is State.RETRY_WAIT
        assert row.next_attempt == due and row.info.startswith("not sent: stopped")


def test_a_failing_batch_fails_each_claimer(tmp_path: Path) -> None:
    naive = datetime(2026, 12, 1, 8)  # the ledger refuses naive times: a caller's bug
    good = ClaimRequest("a", "a", "page", naive + timedelta(hours=1), "facebook/page/post",
                        "h", None)

    async def claim_both(batcher: ClaimBatcher) -> list[object]:
        return [*await asyncio.gather(
            batcher.claim(dataclasses.replace(good, scheduled=naive)),
            batcher.claim(good), return_exceptions=True)]

    with SqliteLedger(tmp_path / "ledger.sqlite", clock=lambda: datetime.now(UTC)) as ledger:
        results = asyncio.run(claim_both(ClaimBatcher(ledger)))
        assert [type(r) for r in results] == [ValueError, ValueError]
        assert ledger.rows() == []


def test_the_daemon_raises_its_open_files_limit_to_the_hard_limit() -> None:
    # In a child process: lowering the soft limit here would starve the test run itself.
    script = ("import resource\n"
              "from runner.daemon.fds import raise_open_files_limit\n"
              "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
              "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
              "print(raise_open_files_limit() == hard or hard == resource.RLIM_INFINITY,"
              " resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 256)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.split() == ["True", "True"]
