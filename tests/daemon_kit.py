"""Shared test code for the daemon and ledger-command tests.

Calendars are written to disk as JSON (a subset of YAML 1.2 the strict loader accepts), so a
test says what it wants as data. Every message carries its entry id as `[id]`, and every
account its own identity, so what the sandbox received can be counted per entry and account.
`Rig` runs a real `Daemon` on a real SQLite ledger against a running `Sandbox`: each `run` is
one daemon lifetime, so two runs on one rig are a restart.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from runner.calendar import Loader
from runner.clock import Clock, SystemClock
from runner.daemon import CapturedLog, Daemon, DaemonOptions
from runner.daemon.events import Observer
from runner.delivery import Sender
from runner.ledger import Ledger, Row, SqliteLedger, State
from runner.oneall import Client, Credentials
from runner.sandbox import Received, Sandbox

ACCOUNTS: dict[str, dict[str, str]] = {
    "page": {"provider": "facebook", "identity": "923843ec-1749-4cc1-988f-d6963f3b1baa",
             "page": "4563453"},
    "tw": {"provider": "twitter", "identity": "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11"},
    "group": {"provider": "facebook", "identity": "0e7a1f52-9c3d-4b8e-a6f1-7d2b5c8e9a14",
              "group": "77120034"},
}
SETTLED = frozenset(State) - {State.PLANNED, State.SENDING, State.RETRY_WAIT}  # nothing left to do
Pair = tuple[str, str]  # (entry or key, account)
Script = Callable[[Daemon], Awaitable[None]]


def stamp(moment: datetime) -> str:
    """`2026-11-26T18:42:50.050Z`: milliseconds and a Z, as a user may write `at`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def soon(seconds: float) -> str:
    """An `at` that many real seconds from now."""
    return stamp(datetime.now(UTC) + timedelta(seconds=seconds))


def post(entry: str, at: str, to: Iterable[str], text: str = "hello", **extra: Any) -> dict[str, Any]:
    """A `posts:` item whose message is tagged with its id."""
    return {"id": entry, "at": at, "to": list(to), "message": f"[{entry}] {text}", **extra}


def calendar(posts: Iterable[Mapping[str, Any]], *, zone: str = "Europe/Berlin",
             accounts: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The text of a one-file calendar."""
    document = {"version": 1, "timezone": zone, "accounts": dict(accounts or ACCOUNTS),
                "posts": list(posts)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def account_of(received: Received) -> str | None:
    """The test account a request went to, by its identity."""
    return next((name for name, data in ACCOUNTS.items()
                 if data["identity"] == received.identity), None)


def entry_of(received: Received) -> str | None:
    """The entry a request carried, by the `[id]` tag in its message."""
    text = json.dumps(received.body, ensure_ascii=False)
    start = text.find("[")
    while start != -1:
        end = text.find("]", start)
        candidate = text[start + 1:end]
        if end != -1 and candidate and all(c.isalnum() or c in "._-" for c in candidate):
            return candidate
        start = text.find("[", start + 1)
    return None


def created(sandbox: Sandbox) -> Counter[Pair]:
    """How many objects the sandbox created per (entry, account)."""
    return Counter((entry_of(r) or "?", account_of(r) or "?") for r in sandbox.created())


def received(sandbox: Sandbox) -> Counter[Pair]:
    """How many push requests the sandbox received per (entry, account), faults included."""
    return Counter((entry_of(r) or "?", account_of(r) or "?") for r in sandbox.received())


def messages(sandbox: Sandbox) -> list[str]:
    """The message texts of the created objects, in arrival order."""
    return [json.dumps(r.body, ensure_ascii=False) for r in sandbox.created()]


def duplicates(sandbox: Sandbox) -> list[Received]:
    """Requests the sandbox saw as repeats of an earlier creation."""
    return [r for r in sandbox.received() if r.duplicate_of is not None]


class Rig:
    """A calendar file, a ledger file and a sandbox; runs daemons on them one at a time."""

    def __init__(self, folder: Path, sandbox: Sandbox) -> None:
        self.folder, self.sandbox = folder, sandbox
        self.path = folder / "calendar.yaml"
        self.state = folder / "ledger.sqlite"
        self.log = io.StringIO()
        self.events = CapturedLog(self.log)  # the last run's events, as (event, fields)
        self.daemon: Daemon | None = None
        self.busy_timeout = 30.0  # seconds the daemon's ledger waits for another writer

    def write(self, text: str) -> None:
        self.path.write_text(text, encoding="utf-8")

    def rows(self) -> dict[Pair, Row]:
        """The ledger's rows by (key, account); empty when there is no ledger yet."""
        if not self.state.exists():
            return {}
        with SqliteLedger(self.state, clock=lambda: datetime.now(UTC)) as ledger:
            return {(r.key, r.account): r for r in ledger.rows()}

    def settled(self, *pairs: Pair) -> Callable[[], bool]:
        """A condition: each (key, account) has a row the daemon will not act on again."""
        def check() -> bool:
            rows = self.rows()
            return all(p in rows and rows[p].state in SETTLED for p in pairs)
        return check

    async def run(self, done: Callable[[], bool] | None = None, *, clock: Clock | None = None,
                  timeout: float = 20.0, read_timeout: float = 30.0,
                  script: Script | None = None, wrap: Callable[[Client], Sender] | None = None,
                  observers: Iterable[Observer] = (),
                  wrap_ledger: Callable[[Ledger], Ledger] | None = None, **options: Any) -> str:
        """One daemon lifetime: run until `done()` (or the daemon's own `until`), then stop.

        `script` runs once the daemon has started (to edit the calendar, reload, ...); `wrap`
        puts a fake in front of the sandbox client, `wrap_ledger` one in front of the ledger.
        Returns
        what this run logged. `done` is polled; `timeout` only bounds a broken test."""
        clock = clock or SystemClock()
        start = len(self.log.getvalue())
        options.setdefault("horizon", timedelta(hours=48))
        options.setdefault("rng", random.Random(7))
        client = Client(Credentials.from_env(self.sandbox.env()), read_timeout=read_timeout,
                        clock=clock.now)
        with SqliteLedger(self.state, clock=clock.now, busy_timeout=self.busy_timeout) as ledger:
            ledger.acquire_daemon_lock()
            loader = Loader([str(self.path)])
            log = self._log_for(clock)
            for observer in observers:  # alerts, metrics, ping: what `pushcal run` adds
                log.observe(observer)
            self.daemon = Daemon(loader, loader.load(),
                                 ledger=wrap_ledger(ledger) if wrap_ledger else ledger,
                                 client=wrap(client) if wrap else client, clock=clock,
                                 log=log,
                                 options=DaemonOptions(**options))
            async with client:
                await _drive(self.daemon, done, timeout, script, lambda: self.logged(start))
        return self.logged(start)

    def _log_for(self, clock: Clock) -> CapturedLog:
        """A capturing log for this run (on its clock), writing into the rig's text log too."""
        self.events = CapturedLog(self.log, clock=clock.now)
        return self.events

    def logged(self, start: int = 0) -> str:
        """The log from character `start` on."""
        return self.log.getvalue()[start:]

    async def wait_for_log(self, text: str, timeout: float = 10.0) -> None:
        """Wait until the log holds `text`; fail the test if it never does."""
        await _wait(lambda: text in self.log.getvalue(), timeout)
        assert text in self.log.getvalue(), f"never logged {text!r}:\n{self.log.getvalue()}"


async def _wait(condition: Callable[[], bool], timeout: float,
                stop: asyncio.Task[Any] | None = None) -> None:
    """Poll `condition` until it holds, `stop` ends, or `timeout` real seconds pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition() and loop.time() < deadline and not (stop and stop.done()):
        await asyncio.sleep(0.05)


async def _drive(daemon: Daemon, done: Callable[[], bool] | None, timeout: float,
                 script: Script | None, logged: Callable[[], str]) -> None:
    task = asyncio.create_task(daemon.run())
    if script is not None:
        await _wait(lambda: " started " in logged(), timeout, task)
        await script(daemon)
    await _wait(done or (lambda: False), timeout, task)
    finished_by_itself = task.done()
    daemon.stop()
    assert await task == 0
    if done is not None:
        assert done(), f"the daemon did not get there in time:\n{logged()}"
    else:
        assert finished_by_itself, f"the daemon did not stop at `until` in time:\n{logged()}"
