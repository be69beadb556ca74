"""What each `pushcal` command does, given parsed arguments and a `Context`.

Thin glue between the rooms: load and check the calendar, expand, render, open the ledger,
deliver, and hand records to `output` for printing. No parsing, no policy of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from runner.calendar import build, times
from runner.calendar.expand import Occurrence, expand, instants
from runner.calendar.model import Calendar
from runner.cli import output
from runner.clock import Clock, ScaledClock, utc_text
from runner.daemon.events import EventLog
from runner.delivery.deliver import deliver
from runner.errors import Problem, PushcalError
from runner.ledger.contract import State
from runner.ledger.sqlite import SqliteLedger
from runner.oneall.client import Client, Credentials
from runner.oneall.render import render

if TYPE_CHECKING:
    from runner.cli.main import Context

PLAN_DAYS = 30
ATTENTION = (State.UNKNOWN, State.FAILED, State.MISSED, State.RETRY_WAIT)


class UsageError(PushcalError):
    """The command line asks for something that cannot be: exit code 2."""


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch to the command's function."""
    return int(_COMMANDS[args.command](args, ctx))


def print_problems(problems: Sequence[Problem], fmt: str, ctx: Context) -> None:
    if fmt == "json":
        ctx.out.write(output.problems_json(problems))
    elif fmt == "github":
        ctx.out.write(output.problems_github(problems))
    else:
        ctx.out.write(output.problems_text(problems))
        files = len({p.file for p in problems})
        print(f"pushcal: {output.count(len(problems), 'problem')} in "
              f"{output.count(files, 'file')}", file=ctx.err)


def validate(args: argparse.Namespace, ctx: Context) -> int:
    cal = build.load(args.paths)
    if args.format == "json":
        ctx.out.write("[]\n")
    elif args.format == "text":
        kinds = len({e.kind for e in cal.entries.values()})
        print(f"ok: {output.count(len(cal.files), 'file')}, "
              f"{output.count(len(cal.entries), 'entry', 'entries')} of "
              f"{output.count(kinds, 'kind')}, {output.count(len(cal.accounts), 'account')}, "
              f"{output.count(len(cal.media), 'medium', 'media')}", file=ctx.out)
    return 0


def moment(text: str, cal: Calendar | None, what: str) -> datetime:
    """A command-line time: ISO 8601 with Z or an offset, or a wall time in the calendar's zone."""
    try:
        written = times.parse(text)
        if written.offset is not None:
            return written.wall.replace(tzinfo=written.offset)
        if cal is None or cal.tz is None:
            raise UsageError(f"{what} '{text}' has no offset and the calendar has no time zone; "
                             "add Z or an offset such as +01:00")
        return times.resolve_exact(written.wall, cal.tz)
    except times.TimeProblem as problem:
        hint = f" ({problem.hint})" if problem.hint else ""
        raise UsageError(f"{what}: {problem}{hint}") from None


def plan(args: argparse.Namespace, ctx: Context) -> int:
    cal = build.load(args.paths)
    start = moment(args.start, cal, "--from") if args.start else ctx.clock()
    end = moment(args.end, cal, "--to") if args.end else start + timedelta(days=PLAN_DAYS)
    if end <= start:
        raise UsageError("--to must be after --from")
    states = _states(args.state, ctx)
    items = [output.PlanItem(occ, cal.accounts[occ.account].provider,
                             cal.entries[occ.entry].kind.value,
                             render(cal, cal.entries[occ.entry], cal.accounts[occ.account]),
                             states.get((occ.key, occ.account)))
             for occ in expand(cal, start, end)]
    if args.format == "json":
        ctx.out.write(output.plan_json(items))
    else:
        ctx.out.write(output.plan_text(items, start, end))
    return 0


def _states(path: Path, ctx: Context) -> dict[tuple[str, str], str]:
    """The ledger's state per (key, account), if a ledger exists; plan never creates one."""
    if not path.exists():
        return {}
    with SqliteLedger(path, clock=ctx.clock) as ledger:
        return {(r.key, r.account): str(r.state) for r in ledger.rows()}


@contextmanager
def _client(use_sandbox: bool, ctx: Context, read_timeout: float = 30.0) -> Iterator[Client]:
    """A client for OneAll, or for a sandbox started on a free loopback port."""
    if not use_sandbox:
        yield Client(Credentials.from_env(ctx.env), clock=ctx.clock, read_timeout=read_timeout)
        return
    from runner.sandbox.emulator import Sandbox

    with Sandbox() as box:
        print(f"sandbox: listening on {box.url}", file=ctx.err)
        yield Client(Credentials.from_env(box.env()), clock=ctx.clock, read_timeout=read_timeout)


def send(args: argparse.Namespace, ctx: Context) -> int:
    if len(args.args) < 2:
        raise UsageError("send needs the calendar PATH(s) and then the ENTRY id")
    cal = build.load(args.args[:-1])
    occurrences = _next_occurrences(cal, args.args[-1], args.account, ctx.clock())
    with (_client(args.sandbox, ctx, args.read_timeout) as client,
          _ledger(args, ctx, ctx.clock) as ledger, ledger.hold_for_sending()):
        failures = asyncio.run(_send_each(cal, occurrences, client, ledger, ctx, args.force))
    return 1 if failures else 0


def _next_occurrences(cal: Calendar, entry_id: str, account: str | None,
                      now: datetime) -> list[Occurrence]:
    entry = cal.entry(entry_id)
    if entry is None:
        raise PushcalError(f"no entry '{entry_id}' in the calendar")
    if not entry.enabled:
        raise PushcalError(f"entry '{entry_id}' is disabled (enabled: false)")
    if account is not None and account not in entry.to:
        raise PushcalError(f"entry '{entry_id}' does not go to '{account}'; "
                           f"it goes to {', '.join(entry.to)}")
    # A one-off has one occurrence whenever it is; a repetition sends its next one (or the
    # one still within its grace).
    since = datetime.min.replace(tzinfo=now.tzinfo) if entry.repeat is None else now - entry.grace
    first = next(instants(entry, since, datetime.max.replace(tzinfo=now.tzinfo)), None)
    if first is None:
        raise PushcalError(f"entry '{entry_id}' has no occurrence left after {utc_text(now)}")
    key, local = first
    due = local.astimezone(now.tzinfo)
    return [Occurrence(due, key, name, entry.id, local, entry.grace)
            for name in entry.to if account in (None, name)]


async def _send_each(cal: Calendar, occurrences: list[Occurrence], client: Client,
                     ledger: SqliteLedger, ctx: Context, force: bool) -> int:
    failures = 0
    async with client:
        for occ in occurrences:
            delivery = await deliver(cal, occ, ledger=ledger, client=client, clock=ctx.clock,
                                     force=force)
            if delivery is None:
                row = ledger.get(occ.key, occ.account)
                state = row.state if row else "claimed elsewhere"
                print(f"{occ.key} -> {occ.account}: not sent: already {state}", file=ctx.out)
                failures += 1
                continue
            row = delivery.row
            # Absent parts are left out, not shown as runs of blanks.
            details = "".join(f"  {part}" for part in (row.remote_id, row.location, row.info)
                              if part)
            print(f"{occ.key} -> {occ.account}: {row.state} {delivery.endpoint}{details}",
                  file=ctx.out)
            failures += row.state is not State.SENT
    return failures


def status(args: argparse.Namespace, ctx: Context) -> int:
    cal = build.load(args.paths) if args.paths else None
    done: set[tuple[str, str]] = set()
    urgent = 0
    if args.state.exists():
        with SqliteLedger(args.state, clock=ctx.clock) as ledger:
            print(f"ledger {args.state}: {output.counts_line(ledger.counts())}", file=ctx.out)
            attention = ledger.rows(states=ATTENTION)
            if attention:
                print("needs attention:", file=ctx.out)
            for row in attention:
                print("  " + output.row_line(row), file=ctx.out)
            urgent = sum(row.state is not State.RETRY_WAIT for row in attention)
            done = ledger.keys_in(set(State))
    else:
        print(f"no ledger at {args.state} yet: nothing has been sent", file=ctx.out)
    if cal is not None:
        now = ctx.clock()
        upcoming = [o for o in expand(cal, now, now + timedelta(days=PLAN_DAYS))
                    if (o.key, o.account) not in done][:10]
        print("next:" if upcoming else "next: nothing in the next 30 days", file=ctx.out)
        for occ in upcoming:
            print(f"  {utc_text(occ.due)}  {occ.key} -> {occ.account}", file=ctx.out)
    return 1 if args.check and urgent else 0


def history(args: argparse.Namespace, ctx: Context) -> int:
    since = moment(args.since, None, "--since") if args.since else None
    if not args.state.exists():
        raise PushcalError(f"no ledger at {args.state}; give --state or run something first")
    with SqliteLedger(args.state, clock=ctx.clock) as ledger:
        rows = ledger.rows(entry=args.entry, since=since)
    if args.format == "json":
        ctx.out.write(output.rows_json(rows))
    else:
        for row in rows:
            print(output.row_line(row), file=ctx.out)
    return 0


def resolve(args: argparse.Namespace, ctx: Context) -> int:
    if not args.state.exists():
        raise PushcalError(f"no ledger at {args.state}")
    with SqliteLedger(args.state, clock=ctx.clock) as ledger:
        rows = ledger.resolve(args.entry, args.account, sent=args.sent, key=args.key)
    for row in rows:
        print(f"{row.key} -> {row.account}: now {row.state}", file=ctx.out)
    return 0


def check(args: argparse.Namespace, ctx: Context) -> int:
    """`pushcal check`: look for each `unknown` delivery in OneAll's Pull API listings."""
    from runner.delivery import pullcheck

    cal = build.load(args.paths)
    if not args.state.exists():
        raise PushcalError(f"no ledger at {args.state}")
    with SqliteLedger(args.state, clock=ctx.clock) as ledger:
        rows = ledger.rows(states=[State.UNKNOWN], entry=args.entry)
    if not rows:
        print("nothing is unknown", file=ctx.out)
        return 0

    async def ask(client: Client) -> list[pullcheck.Finding]:
        async with client:
            return await pullcheck.check(cal, rows, client)

    with _client(False, ctx, args.read_timeout) as client:
        findings = asyncio.run(ask(client))
    for finding in findings:
        print(f"{finding.row.key} -> {finding.row.account}: {finding.note}", file=ctx.out)
    return 0


def sandbox(args: argparse.Namespace, ctx: Context) -> int:
    from runner.sandbox.emulator import Faults, serve_forever

    codes = tuple(c.strip() for c in args.fail_codes.split(",") if c.strip())
    try:
        faults = Faults(latency_ms=args.latency_ms, fail_rate=args.fail_rate, fail_codes=codes,
                        seed=args.seed)
    except ValueError as error:
        raise UsageError(f"sandbox: {error}") from None
    serve_forever(args.host, args.port, faults, ctx.out)
    return 0


def run_daemon(args: argparse.Namespace, ctx: Context) -> int:
    """`pushcal run`: validate, open the ledger (refusing a second daemon), publish."""
    from runner.daemon.service import Daemon

    if args.rehearse and not args.sandbox:
        raise UsageError("--rehearse plays the calendar on virtual time: it needs --sandbox")
    loader = build.Loader(args.paths)
    cal = loader.load()
    start = moment(args.start, cal, "--from") if args.start else ctx.clock()
    clock: Clock = ScaledClock(start, args.speed, ctx.clock) if args.rehearse else _Real(ctx)
    until = moment(args.end, cal, "--until") if args.end else None
    if args.rehearse and until is None:
        until = start + timedelta(days=7)
    log = EventLog(ctx.err, fmt=args.log_format, clock=clock.now)
    with (_client(args.sandbox, ctx, args.read_timeout) as client,
          _ledger(args, ctx, clock.now, log) as ledger):
        ledger.acquire_daemon_lock()
        daemon = Daemon(paths=args.paths, calendar=cal, ledger=ledger, client=client,
                        clock=clock, log=log, horizon=timedelta(hours=args.horizon),
                        until=until, heartbeat=args.heartbeat, loader=loader)

        async def main() -> int:
            async with client:
                return await daemon.run()

        code = asyncio.run(main())
        if args.rehearse:
            print(f"rehearsal finished at {utc_text(clock.now())}: "
                  f"{output.counts_line(ledger.counts())}", file=ctx.out)
        return code


@dataclass
class _Real:
    """The context's clock as a daemon clock (no scaling)."""

    ctx: Context

    def now(self) -> datetime:
        return self.ctx.clock()

    def real(self, moment: datetime) -> datetime:
        return moment

    def real_seconds(self, seconds: float) -> float:
        return seconds


@contextmanager
def _ledger(args: argparse.Namespace, ctx: Context, clock: Callable[[], datetime],
            log: EventLog | None = None) -> Iterator[SqliteLedger]:
    """The ledger at --state; with --sandbox and no --state, a throwaway one, so trying
    things out never marks a real post as sent."""
    if args.sandbox and not args.state_given:
        with tempfile.TemporaryDirectory(prefix="pushcal-sandbox-") as folder:
            path = Path(folder) / "ledger.sqlite"
            if log is not None:
                log("sandbox-ledger", path=str(path), note="deleted at exit; give --state to keep it")
            with SqliteLedger(path, clock=clock) as ledger:
                yield ledger
        return
    with SqliteLedger(args.state, clock=clock) as ledger:
        yield ledger


_COMMANDS = {
    "validate": validate, "plan": plan, "send": send, "status": status, "history": history,
    "resolve": resolve, "check": check, "sandbox": sandbox, "run": run_daemon,
}
