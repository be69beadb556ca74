"""The daemon: the scheduler is only the clock; the ledger decides what was delivered.

APScheduler 3 (AsyncIOScheduler, memory job store, misfire dropping off) holds one job per
instant within a rolling horizon, rebuilt from the validated calendar at start, on SIGHUP,
on file changes, and as the horizon rolls on. Which jobs should exist is worked out by the
pure `Horizon`; this module applies its diffs to the scheduler. A job hands its occurrences
to the account workers; everything after that (claim, send, record) goes through the ledger.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from runner.calendar import Calendar, Loader, Occurrence, occurrence
from runner.clock import Clock
from runner.daemon import catchup, health, summary
from runner.daemon.events import EventLog
from runner.daemon.fds import raise_open_files_limit
from runner.daemon.gitinfo import head_commit
from runner.daemon.horizon import (
    PATCH_LIMIT,
    Horizon,
    JobDiff,
    Pair,
    Wanted,
    changed_entries,
    unsettled,
)
from runner.daemon.liveness import Liveness
from runner.daemon.options import DaemonOptions
from runner.daemon.supervise import Supervisor
from runner.daemon.sweep import Sweep
from runner.daemon.watch import Watcher
from runner.daemon.workers import Job, Workers
from runner.delivery import Delivery, Sender
from runner.errors import InvalidCalendar, PushcalError
from runner.ledger import SETTLED, Ledger, LedgerUnavailable, Row, State


class Daemon:
    """Publishes `calendar` at its times until stopped (or until `until`, when rehearsing)."""

    def __init__(self, loader: Loader, calendar: Calendar, *, ledger: Ledger, client: Sender,
                 clock: Clock, log: EventLog, options: DaemonOptions | None = None) -> None:
        options = options or DaemonOptions()
        self.loader, self.paths, self.calendar, self.ledger = loader, loader.paths, calendar, ledger
        self.clock, self.log, self.options = clock, log, options
        self.horizon, self.lookback, self.until = options.horizon, options.lookback, options.until
        self.commit = head_commit(self.paths)
        self.supervisor = Supervisor(log, self.stop)
        self.workers = Workers(calendar=lambda: self.calendar, ledger=ledger, client=client,
                               clock=clock, log=log, commit=lambda: self.commit,
                               on_delivered=self._delivered, rng=options.rng,
                               supervisor=self.supervisor,
                               callbacks=options.callbacks)
        self.sweep = Sweep(self)
        self.watcher = Watcher(self.paths, interval=options.watch_interval,
                               settle=options.watch_interval)
        self.jobs = Horizon()
        self._fired_meanwhile: set[Pair] | None = None  # while a roll expands in a thread
        self.fired = 0
        self.last_fire: datetime | None = None
        self._stop = asyncio.Event()
        self._reloads: set[asyncio.Future[None]] = set()
        self._reload_when_back = False  # a reload found the ledger unreachable
        self._reload_lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self.started: datetime | None = None  # on the daemon's clock, when run() began
        self.stopped_by: str | None = None  # the signal's name, when one stopped it
        self._snapshot: summary.Snapshot | None = None  # the rows at start

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT (or `until`); return the exit code. A ledger that
        cannot be trusted stops it: its LedgerUntrusted is raised once all is shut down."""
        loop = asyncio.get_running_loop()
        self._signals(loop)  # first: a signal during start-up must not kill the daemon
        raise_open_files_limit()
        self.started = self.clock.now()
        self._snapshot = summary.snapshot(self.ledger, self.started, self.lookback)
        last_seen = self.ledger.last_activity()  # before recovering writes events of its own
        for row in self.ledger.recover():
            self.report("recovered", row)
        self.ledger.announce(self.calendar.digest, self.commit)
        self._scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC", job_defaults={
            "misfire_grace_time": None, "coalesce": False, "max_instances": 1})
        self._scheduler.start()
        catchup.catch_up(self, last_seen=last_seen)
        self.sync()
        self._adopt_retries()
        # A quarter of the horizon, so windows overlap; no one-second floor, which a fast
        # rehearsal clock would turn into more virtual time than the horizon holds.
        every = max(0.05, self.clock.real_seconds(self.horizon.total_seconds() / 4))
        # Job functions are coroutines so APScheduler runs them on this loop, not in a thread;
        # each runs under the supervisor, so none can fail without a word.
        job = self.supervisor.job
        self._scheduler.add_job(job("roll", self._roll), "interval", seconds=every, id="horizon")
        self._scheduler.add_job(job("sweep", self.sweep.run), "interval",
                                seconds=self.options.sweep_every, id="sweep")
        if self.options.heartbeat is not None or self.options.health is not None:
            self._scheduler.add_job(job("heartbeat", functools.partial(health.beat, self)), "interval",
                                    seconds=self.options.heartbeat_every, id="heartbeat",
                                    next_run_time=self.clock.real(self.clock.now()))
        if self.until is not None:
            self._scheduler.add_job(self._finish, "date", run_date=self.clock.real(self.until),
                                    id="until")
        watch = asyncio.create_task(self.supervisor.forever(
            "watcher", lambda: self.watcher.run(self.reload), self.options.watch_interval))
        pulse = asyncio.create_task(self.supervisor.forever("liveness", Liveness(
            self.ledger, self.log, every=self.options.beat_every,
            on_reaped=lambda row: self.report("recovered", row), on_back=self._resume,
            on_tick=self._adopt_retries).run, self.options.beat_every))
        self.log("started", entries=len(self.calendar.entries), jobs=len(self.jobs.by_due),
                 horizon=self.horizon, commit=self.commit, **self._next_firing())
        self._early_signals()
        await self._stop.wait()
        watch.cancel()
        pulse.cancel()
        self._scheduler.shutdown(wait=False)
        cut = await self.workers.stop(self.options.shutdown_timeout)
        if self.supervisor.fatal is not None:
            self.log("stopped", cut_off=cut or None, reason="the ledger cannot be trusted")
            raise self.supervisor.fatal
        self.log("stopped", cut_off=cut or None, **self.this_run(), by=self.stopped_by)
        return 0

    def this_run(self) -> dict[str, int]:
        """What this run recorded, per state: the rows it added or changed since it started."""
        return summary.this_run(self.ledger, self._snapshot)

    def _next_firing(self) -> dict[str, object]:
        return summary.next_firing(self.jobs.next_due(), self.calendar.tz)

    def stop(self) -> None:
        """Stop claiming new occurrences and shut down."""
        self.workers.stopping = True
        self._stop.set()

    async def _finish(self) -> None:
        self.log("until-reached", until=self.until)
        self.stop()

    async def _roll(self) -> None:
        """Extend the window as time passes. Expanding a large calendar takes a while, so it
        runs in a thread and never holds up a firing; what fires meanwhile is not
        scheduled again, and a reload meanwhile makes this roll wait for the next one."""
        now, calendar = self.clock.now(), self.calendar
        start, end = self.jobs.window(now, self.horizon)
        self._fired_meanwhile = set()
        try:
            found = await asyncio.to_thread(self._unsettled, calendar, start, end)
            fired = self._fired_meanwhile
        finally:
            self._fired_meanwhile = None
        if calendar is not self.calendar:
            return
        self.jobs.synced_to = end
        fresh = {p: o for p, o in found.items() if p not in fired}
        self._apply(self.jobs.replace(self.jobs.with_overdue(fresh, start)))

    def _signals(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._signalled, sig.name)
        loop.add_signal_handler(signal.SIGHUP, lambda: self.request_reload("SIGHUP"))

    def request_reload(self, reason: str) -> None:
        """Reload soon, under the supervisor (a failed reload is reported, never fatal)."""
        task = asyncio.ensure_future(self.supervisor.job("reload", self.reload)(reason))
        self._reloads.add(task)  # held, so the loop cannot drop it half-way
        task.add_done_callback(self._reloads.discard)

    def _early_signals(self) -> None:
        early = self.options.signals
        if early is not None and early.stop:
            self.stopped_by = early.stopped_by
            self.stop()
        elif early is not None and early.reload:
            self.request_reload("SIGHUP")

    def _signalled(self, name: str) -> None:
        self.stopped_by = name
        self.stop()

    async def reload(self, reason: str) -> bool:
        """Re-read the whole calendar; replace the current one only if all of it is valid."""
        async with self._reload_lock:  # in order: the newest reload applies last
            return await self._reload(reason)

    async def _reload(self, reason: str) -> bool:
        try:
            calendar = await asyncio.to_thread(self.loader.load_settled,
                                               self.options.watch_interval)
        except InvalidCalendar as error:
            self.log("reload-rejected", reason=reason, problems=len(error.problems),
                     kept="the last valid calendar")
            for problem in error.problems:
                self.log("problem", text=problem.render())
            return False
        except PushcalError as error:
            self.log("reload-rejected", reason=reason, error=str(error))
            return False
        if calendar.digest == self.calendar.digest:
            # Said anyway: whoever sent SIGHUP wants to see that it was heard.
            self.log("reloaded", reason=reason, entries=len(calendar.entries), unchanged=True)
            return True
        commit = head_commit(self.paths)
        try:
            self.ledger.announce(calendar.digest, commit)  # peers on the old one stop claiming
        except LedgerUnavailable as error:
            # Applying it now would drop what the edit removed without a `cancelled` row:
            # the whole reload waits for the ledger, and is made again once it is back.
            self._reload_when_back = True
            self.log("reload-deferred", reason=reason, error=str(error),
                     kept="the last calendar, until the ledger is back")
            return False
        before, self.calendar, self.commit = self.calendar, calendar, commit
        changed = changed_entries(before, calendar)
        pending = self.jobs.pending
        touched = self.sync(changed)
        catchup.cancel_vanished(self, pending, changed)
        catchup.catch_up(self, before, changed)
        self.log("reloaded", reason=reason, entries=len(calendar.entries),
                 entries_changed=len(changed), jobs_touched=touched, **self._next_firing())
        return True

    def sync(self, changed: set[str] | None = None) -> int:
        """Make the jobs match the calendar within the horizon; return how many changed.
        A job is touched only when the set of occurrences due at its instant changed.
        With `changed` (entry ids an edit touched), only those entries are expanded again,
        within the window already loaded: a one-entry edit costs one entry's work.

        Windows follow on from each other: when this runs late (a busy loop, a suspended
        machine, a rehearsal clock outrunning the interval), what fell due since the last
        window's end still gets a job, which fires at once and meets the lateness policy.
        Jobs that fell due but have not run yet are left to run."""
        now = self.clock.now()
        if changed is not None and self.jobs.synced_to is not None and len(changed) <= PATCH_LIMIT:
            return self._apply(self.jobs.replace(
                self.jobs.patched(self.calendar, changed, now, self._is_settled)))
        start, end = self.jobs.window(now, self.horizon)
        wanted = self.jobs.with_overdue(self._unsettled(self.calendar, start, end), start)
        self.jobs.synced_to = end
        return self._apply(self.jobs.replace(wanted))

    def _apply(self, diff: JobDiff) -> int:
        """Write and remove the scheduler's jobs as `diff` says; return how many changed."""
        for due in diff.write:
            self._job(due)
        for due in diff.remove:
            if self._scheduler is not None and self._scheduler.get_job(_job_id(due)):
                self._scheduler.remove_job(_job_id(due))
        return len(diff)

    def _unsettled(self, calendar: Calendar, start: datetime, end: datetime) -> Wanted:
        """The occurrences in the window that the ledger has not settled (thread-safe)."""
        return unsettled(calendar, start, end, lambda keys: self.ledger.keys_in(SETTLED, keys=keys))

    def _is_settled(self, key: str, account: str) -> bool:
        row = self.ledger.get(key, account)
        return row is not None and row.state in SETTLED

    def _job(self, due: datetime) -> None:
        assert self._scheduler is not None
        self._scheduler.add_job(self.supervisor.job("fire", self._fire), "date",
                                run_date=self.clock.real(due), args=[due],
                                id=_job_id(due), replace_existing=True)

    async def _fire(self, due: datetime) -> None:
        occurrences = self.jobs.fire(due)
        if self._fired_meanwhile is not None:
            self._fired_meanwhile |= {(o.key, o.account) for o in occurrences}
        self.fired += len(occurrences)
        self.last_fire = self.clock.now()
        for occ in occurrences:
            self.workers.put(Job(occ))

    def _delivered(self, delivery: Delivery) -> None:
        row = delivery.row
        self.report("delivered", row, late=delivery.occurrence)
        if row.state is State.RETRY_WAIT:
            self.schedule_retry(row)

    def _resume(self) -> None:
        """After the database came back: what fell due meanwhile, every retry, and a reload
        that waited for it."""
        self.sync()
        catchup.catch_up(self)
        self._adopt_retries()
        if self._reload_when_back:
            self._reload_when_back = False
            self.request_reload("ledger back")

    def _adopt_retries(self) -> None:
        """Schedule the `retry_wait` rows no job of ours waits for: a peer's, maybe dead."""
        assert self._scheduler is not None
        for row in self.ledger.rows(states=[State.RETRY_WAIT]):
            if self._scheduler.get_job(f"retry {row.key} {row.account}") is None:
                self.schedule_retry(row)

    def schedule_retry(self, row: Row) -> None:
        assert self._scheduler is not None and row.next_attempt is not None
        self._scheduler.add_job(self.supervisor.job("retry", self._retry), "date",
                                run_date=self.clock.real(row.next_attempt),
                                args=[row.key, row.account], id=f"retry {row.key} {row.account}",
                                replace_existing=True)

    def retry_scheduled(self, key: str, account: str) -> bool:
        """True if a retry job for this row exists (or is running right now)."""
        assert self._scheduler is not None
        return (self._scheduler.get_job(f"retry {key} {account}") is not None
                or (key, account) in self.workers.owned)

    async def _retry(self, key: str, account: str) -> None:
        row = self.ledger.get(key, account)
        if row is None or row.state is not State.RETRY_WAIT:
            return
        occ = occurrence(self.calendar, key, account) or Occurrence(
            row.scheduled, key, account, row.entry, row.scheduled, timedelta(0))
        self.workers.put(Job(occ, retry=True, attempt=row.attempts))

    def report(self, event: str, row: Row, late: Occurrence | None = None) -> None:
        """Log what became of a row (`event`: recovered, delivered, orphaned)."""
        lateness = None
        if late is not None and row.claimed is not None:
            lateness = round((row.claimed - late.due).total_seconds() * 1000, 1)
        self.log(event, entry=row.entry, account=row.account, key=row.key,
                 endpoint=row.endpoint, state=str(row.state), remote_id=row.remote_id,
                 location=row.location, late_ms=lateness, attempts=row.attempts,
                 http_status=row.http_status,
                 info=row.info if row.state is not State.SENT else None,
                 next_attempt=row.next_attempt)


def _job_id(due: datetime) -> str:
    return f"at {due.isoformat()}"
