"""`pushcal send PATH... ENTRY`: publish one entry now, through the same ledger as the daemon."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import datetime

from runner.calendar import Calendar, Occurrence, instants, load, occurrence
from runner.cli import steps, wiring
from runner.cli.context import Context, UsageError
from runner.clock import utc_text
from runner.delivery import deliver
from runner.errors import PushcalError
from runner.ledger import Ledger, State
from runner.oneall.client import Client


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Send each account's occurrence; exit 1 if any did not end `sent`."""
    if len(args.args) < 2:
        raise UsageError("send needs the calendar PATH(s) and then the ENTRY id")
    wiring.keep_history_apart(args)
    cal = load(args.args[:-1], ctx.records())
    occurrences = _next_occurrences(cal, args.args[-1], args.account, ctx.clock())
    with (wiring.client(args.sandbox, ctx, args.read_timeout) as client,
          wiring.ledger(args, ctx.clock) as ledger, ledger.hold_for_sending()):
        failures = asyncio.run(_send_each(cal, occurrences, client, ledger, ctx, args))
    return 1 if failures else 0


def _next_occurrences(cal: Calendar, wanted: str, account: str | None,
                      now: datetime) -> list[Occurrence]:
    entry_id, _, day = wanted.partition("@")
    entry = cal.entry(entry_id)
    if entry is None:
        raise PushcalError(f"no entry '{entry_id}' in the calendar")
    if not entry.enabled:
        raise PushcalError(f"entry '{entry_id}' is disabled (enabled: false)")
    if account is not None and account not in entry.to:
        raise PushcalError(f"entry '{entry_id}' does not go to '{account}'; "
                           f"it goes to {', '.join(entry.to)}")
    if day:  # one occurrence named by its key, as status and history show it
        return _keyed(cal, wanted, entry.to, account)
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


def _keyed(cal: Calendar, key: str, accounts: Sequence[str],
           account: str | None) -> list[Occurrence]:
    found = [occ for name in accounts if account in (None, name)
             if (occ := occurrence(cal, key, name)) is not None]
    if not found:
        raise PushcalError(f"'{key}' is not an occurrence of the calendar: the entry does not "
                           "repeat on that local date (pushcal plan shows its occurrences)")
    return found


async def _send_each(cal: Calendar, occurrences: list[Occurrence], client: Client,
                     ledger: Ledger, ctx: Context, args: argparse.Namespace) -> int:
    failures = 0
    paths = args.args[:-1]
    async with client:
        for occ in occurrences:
            delivery = await deliver(cal, occ, ledger=ledger, client=client, clock=ctx.clock,
                                     force=args.force)
            if delivery is None:
                row = ledger.get(occ.key, occ.account)
                text = (steps.already(row.state, occ.key, occ.account, paths) if row
                        else f"{occ.key} -> {occ.account}: not sent: claimed elsewhere")
                print(text, file=ctx.out)
                failures += 1
                continue
            row = delivery.row
            # Absent parts are left out, not shown as runs of blanks.
            details = "".join(f"  {part}" for part in (row.remote_id, row.location, row.info)
                              if part)
            print(f"{occ.key} -> {occ.account}: {row.state} {delivery.endpoint}{details}",
                  file=ctx.out)
            # Accepted is OneAll's yes to an async upload; its result reaches the daemon.
            failures += row.state not in (State.SENT, State.ACCEPTED)
    return failures
