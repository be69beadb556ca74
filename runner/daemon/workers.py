"""Per-account sending: one queue and one worker per account, with its own rate limit.

A slow or throttled account only ever delays itself. Each worker applies the lateness
policy at the moment it would claim (too late: `missed`, never a burst of stale posts),
then delivers through `dispatch.deliver`, which claims before sending. Deliveries run
shielded, so a shutdown lets the request in flight finish instead of cutting it off.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from runner.calendar.expansion import Occurrence, occurrence
from runner.calendar.model import Calendar
from runner.clock import Clock, duration_text
from runner.daemon.claims import ClaimBatcher
from runner.daemon.events import EventLog
from runner.daemon.supervise import Supervisor
from runner.delivery import CallbackUrls, Delivery, Sender, claim_request, deliver, retry_deadline
from runner.ledger.contract import (
    ClaimRequest,
    Ledger,
    LedgerError,
    LedgerUnavailable,
    LedgerUntrusted,
    SharedRateLimit,
    State,
)
from runner.oneall.wire import Request

ON_TIME = 1.0  # real seconds after its due time that an occurrence still counts as on time
LEDGER_RETRY = 2.0  # real seconds before a claim or mark the ledger refused is tried again


@dataclass(frozen=True)
class Job:
    """An occurrence handed to a worker; `retry` when it comes back from `retry_wait`."""

    occurrence: Occurrence
    retry: bool = False
    attempt: int = 0  # for a retry, the attempts made so far: names its shared rate slot


@dataclass
class _Limit:
    count: int
    per: float  # seconds
    sent: collections.deque[float] = field(default_factory=collections.deque)


class Workers:
    """The account queues. `calendar` is read at send time, so edits made after an
    occurrence was queued are what gets sent."""

    def __init__(self, *, calendar: Callable[[], Calendar], ledger: Ledger, client: Sender,
                 clock: Clock, log: EventLog, commit: Callable[[], str | None],
                 on_delivered: Callable[[Delivery], None], rng: random.Random,
                 supervisor: Supervisor, callbacks: CallbackUrls | None = None) -> None:
        self._calendar, self._ledger, self._client = calendar, ledger, client
        self._clock, self._log, self._commit = clock, log, commit
        self._on_delivered, self._rng, self._supervisor = on_delivered, rng, supervisor
        self._callbacks = callbacks or CallbackUrls()
        self.owned: set[tuple[str, str]] = set()  # claimed by us, not yet settled
        # Occurrences whose `missed` the ledger refused to record: the health check fails
        # while any is left, and each is tried again until it is written.
        self.unrecorded: set[tuple[str, str]] = set()
        self._queues: dict[str, asyncio.Queue[Job]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._limits: dict[str, _Limit] = {}
        self.claims = ClaimBatcher(ledger)
        self.inflight: set[asyncio.Task[Delivery | None]] = set()
        self.stopping = False

    def put(self, job: Job) -> None:
        account = job.occurrence.account
        if account not in self._queues:
            self._queues[account] = asyncio.Queue()
            self._tasks[account] = asyncio.create_task(self._supervisor.forever(
                f"worker {account}", functools.partial(self._work, account), LEDGER_RETRY),
                name=account)
        self._queues[account].put_nowait(job)

    def later(self, job: Job) -> None:
        """Queue `job` again in a little while (the ledger refused it for now)."""
        if not self.stopping:
            asyncio.get_running_loop().call_later(LEDGER_RETRY, self.put, job)

    def backlog(self) -> int:
        return sum(q.qsize() for q in self._queues.values())

    def depths(self) -> dict[str, int]:
        """Occurrences waiting per account (for metrics: safe from a scrape thread)."""
        return {account: q.qsize() for account, q in list(self._queues.items())}

    async def stop(self, timeout: float) -> int:
        """Stop claiming; let deliveries in flight finish for up to `timeout` seconds, then
        cancel them (they are recorded `unknown`). Returns how many were cut off."""
        self.stopping = True
        for worker in self._tasks.values():
            worker.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if not self.inflight:
            return 0
        _, pending = await asyncio.wait(self.inflight, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return len(pending)

    async def _work(self, account: str) -> None:
        queue = self._queues[account]
        while True:
            job = await queue.get()
            try:
                await self._respect_limit(account, job)
            except LedgerUnavailable:
                continue  # looked at again once the ledger is back
            except Exception:
                self.put(job)  # not lost: the supervisor reports and restarts this worker
                raise
            if self.stopping:
                return
            task = asyncio.create_task(self._one(job))
            self.inflight.add(task)
            task.add_done_callback(functools.partial(self._finished, job))
            # A bug in one delivery must not end the account's worker: it is reported (and
            # its row settled) by `_finished`, and the queue goes on.
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    def _finished(self, job: Job, task: asyncio.Task[Delivery | None]) -> None:
        # Reported from the task, not the worker: a delivery that completes while shutdown
        # waits for it (its worker already cancelled) is still logged, remote id and all.
        self.inflight.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, LedgerUntrusted):
            self._supervisor.die(error)
            return
        if isinstance(error, LedgerUnavailable):
            # Nothing was claimed (or the claim dies with the session and is reaped): the
            # occurrence is looked at again once the ledger is back.
            occ = job.occurrence
            self._log("deferred", entry=occ.entry, key=occ.key, account=occ.account,
                      reason="the ledger is unavailable: a claim it made is reaped as unknown,"
                             " anything else is looked at again once it is back")
            return
        if error is not None:
            self._crashed(job.occurrence, error)
            return
        delivery = task.result()
        if delivery is not None:
            self._on_delivered(delivery)

    def _crashed(self, occ: Occurrence, error: BaseException) -> None:
        """An unexpected error while delivering: say so, and settle a claimed row `unknown`
        (the request may have gone out), as a restart's recovery would."""
        self._log("error", entry=occ.entry, key=occ.key, account=occ.account, error=repr(error))
        info = f"unexpected error while sending: {error!r}: the request may have been acted on"
        with contextlib.suppress(Exception):  # the ledger may be what failed
            row = self._ledger.get(occ.key, occ.account)
            if row is not None and row.state is State.SENDING:
                self._ledger.finish(occ.key, occ.account, State.UNKNOWN, info=info)

    async def _one(self, job: Job) -> Delivery | None:
        cal = self._calendar()
        occ = occurrence(cal, job.occurrence.key, job.occurrence.account)
        if occ is None:
            self._mark(job.occurrence, State.CANCELLED, "", "removed or disabled in the calendar")
            return None
        if not job.retry and occ.due != job.occurrence.due:
            return None  # moved: its new time has its own job
        now = self._clock.now()
        # On time means within a second of real time, whatever the grace: `grace: 0s` must
        # not turn every post into `missed` for being a few milliseconds late, nor a
        # rehearsal's sped-up clock turn scheduling jitter into hours of lateness.
        grace = max(occ.grace, timedelta(seconds=ON_TIME / self._clock.real_seconds(1.0)))
        deadline = retry_deadline(occ, grace) if job.retry else occ.due + grace
        if now > deadline:
            # On the daemon's clock: a rehearsal's lateness is in calendar time, not real time.
            why = ("retry window ended" if job.retry
                   else f"{duration_text(now - occ.due)} late, grace {duration_text(occ.grace)}")
            self._missed(job, occ, claim_request(cal, occ)[1].endpoint, why)
            return None
        requests, claim = claim_request(cal, occ, commit=self._commit())
        pair = (occ.key, occ.account)
        self.owned.add(pair)  # before the claim: the sweep must never take it for an orphan
        try:
            return await self._claim_and_deliver(job, cal, occ, requests, claim)
        finally:
            self.owned.discard(pair)

    async def _claim_and_deliver(self, job: Job, cal: Calendar, occ: Occurrence,
                                 requests: list[Request], claim: ClaimRequest) -> Delivery | None:
        try:
            # Batched with every other account claiming in this loop turn: one fsync per burst.
            claimed = await self.claims.claim(claim)
        except LedgerUntrusted:
            raise
        except LedgerError as error:
            # A full disk, a lock held too long: nothing was sent, so try again while the
            # occurrence is within its grace; after it, it is recorded `missed`.
            self._log("claim-failed", entry=occ.entry, key=occ.key, account=occ.account,
                      error=str(error), retry_in=timedelta(seconds=LEDGER_RETRY))
            self.later(job)
            return None
        if claimed is None:
            row = self._ledger.get(occ.key, occ.account)
            self._log("skipped", entry=occ.entry, key=occ.key, account=occ.account,
                      reason=f"already {row.state}" if row else "claimed elsewhere")
            return None
        return await deliver(cal, occ, ledger=self._ledger, client=self._client,
                             clock=self._clock.now, rng=self._rng, claimed=claimed,
                             requests=requests, callbacks=self._callbacks)

    def _missed(self, job: Job, occ: Occurrence, endpoint: str, why: str) -> None:
        """Record `missed`; if the ledger refuses even that, say so loudly and keep trying."""
        pair = (occ.key, occ.account)
        try:
            self._mark(occ, State.MISSED, endpoint, why)
        except LedgerUntrusted:
            raise
        except LedgerError as error:
            if pair not in self.unrecorded:
                self._log("unrecorded", entry=occ.entry, key=occ.key, account=occ.account,
                          due=occ.due, error=str(error),
                          note="missed, and the ledger cannot record it: retrying")
            self.unrecorded.add(pair)
            self.later(job)
            return
        if pair in self.unrecorded:
            self.unrecorded.discard(pair)
            self._log("recorded", entry=occ.entry, key=occ.key, account=occ.account)

    def _mark(self, occ: Occurrence, state: State, endpoint: str, why: str) -> None:
        changed = self._ledger.mark(occ.key, entry=occ.entry, account=occ.account,
                                    scheduled=occ.due, endpoint=endpoint, state=state,
                                    info=f"{state}: {why}")
        if changed:
            self._log(str(state), entry=occ.entry, key=occ.key, account=occ.account,
                      due=occ.due, reason=why)

    async def _respect_limit(self, account: str, job: Job) -> None:
        """Wait until a send to `account` stays within its `rate_limit` (sliding window);
        on a shared ledger the window is kept there, for every daemon at once."""
        limit = self._limit(account)
        if limit is None:
            return
        if isinstance(self._ledger, SharedRateLimit):
            # Every daemon fires every occurrence; naming the slot after the occurrence (and
            # attempt) makes them share one slot instead of each taking one.
            slot = f"{job.occurrence.key}#{job.attempt}"
            while (wait := self._ledger.reserve_send(account, slot, limit.count, limit.per)) > 0:
                await asyncio.sleep(self._clock.real_seconds(wait))
            return
        now = self._clock.now().timestamp()
        while limit.sent and now - limit.sent[0] >= limit.per:
            limit.sent.popleft()
        if len(limit.sent) >= limit.count:
            wait = limit.sent[0] + limit.per - now
            await asyncio.sleep(self._clock.real_seconds(wait))
            limit.sent.popleft()
        limit.sent.append(self._clock.now().timestamp())

    def _limit(self, account: str) -> _Limit | None:
        acct = self._calendar().accounts.get(account)
        if acct is None or acct.rate_limit is None:
            return None
        limit = self._limits.get(account)
        if limit is None or (limit.count, limit.per) != acct.rate_limit:
            limit = self._limits[account] = _Limit(*acct.rate_limit)
        return limit
