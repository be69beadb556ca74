"""`pushcal run PATH...`: the daemon, or a rehearsal of it on virtual time.

Everything a run needs is checked before it starts: the window (`--until` after `--from`),
the heartbeat file (written once up front), and the ledger (a sandbox never writes into real
history, see `wiring.ledger`). Ctrl-C exits 130 as every command does; a rehearsal says
how far it got.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from runner.calendar import Loader
from runner.cli import observers, output, wiring
from runner.cli.context import Context, UsageError
from runner.cli.moments import moment
from runner.cli.past import past_one_offs
from runner.clock import Clock, ScaledClock, utc_text
from runner.daemon import Daemon, DaemonOptions, EarlySignals, EventLog, route_library_logs
from runner.ledger import State

REHEARSAL_DAYS = 7


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Validate, open the ledger (refusing a second daemon), publish until stopped."""
    signals = EarlySignals().install()  # before anything: a SIGHUP now must not kill us
    if args.rehearse and not args.sandbox:
        raise UsageError("--rehearse plays the calendar on virtual time: it needs --sandbox")
    observers.check(args, ctx.env)
    wiring.keep_history_apart(args)
    loader = Loader(args.paths, ctx.records())
    cal = loader.load()
    start = moment(args.start, cal, "--from") if args.start else ctx.clock()
    if args.start and not args.rehearse:
        raise UsageError("--from is where a rehearsal starts: add --rehearse --sandbox, or leave "
                         "it out (a real run starts now)")
    until = moment(args.end, cal, "--until") if args.end else None
    if args.rehearse and until is None:
        until = start + timedelta(days=REHEARSAL_DAYS)
    if until is not None and until <= start:
        first = "--from" if args.start else "now"
        raise UsageError(f"--until {utc_text(until)} is not after {first} ({utc_text(start)}): "
                         "give a later --until")
    if args.heartbeat is not None:
        wiring.writable(args.heartbeat, "--heartbeat")
    clock: Clock = (ScaledClock(start, args.speed, ctx.clock) if args.rehearse
                    else wiring.RealClock(ctx))
    log = EventLog(ctx.err, fmt=args.log_format, clock=clock.now)
    # The health file lives beside a ledger file; a database has no "beside" (status reads
    # the daemons' beats from the database instead).
    health = (None if (args.sandbox and not args.state_given) or not isinstance(args.state, Path)
              else args.state.with_name(args.state.name + ".health"))
    options = DaemonOptions(horizon=timedelta(hours=args.horizon), until=until,
                            heartbeat=args.heartbeat, health=health, signals=signals)
    with (route_library_logs(log), observers.telling(args, ctx.env, log) as outside,
          wiring.client(args.sandbox, ctx, args.read_timeout) as client,
          wiring.ledger(args, clock.now, log) as ledger):
        ledger.acquire_daemon_lock()
        if args.rehearse:
            log("rehearsing", virtual_from=start, until=until, speed=args.speed,
                note="virtual time: every moment in this log is on the rehearsal's clock")
        one_offs = [i for i, s in cal.entries.summaries() if not s.repeats]  # key = id
        recorded = {key for key, _ in ledger.keys_in(set(State), keys=one_offs)}
        for past in past_one_offs(cal, clock.now() - options.lookback, recorded):
            log("past-one-off", entry=past.entry.id, due=past.due,
                note="before the daemon looks back, never sent: it will not be sent on its own; "
                     "send it with pushcal send, or set enabled: false if it already happened")
        with outside.results(args, ledger, clock, log) as callbacks:
            daemon = Daemon(loader, cal, ledger=ledger, client=outside.sender(client),
                            clock=clock, log=log, options=replace(options, callbacks=callbacks))
            outside.attach(daemon, ledger)

            async def main() -> int:
                async with client:
                    return await daemon.run()

            code = asyncio.run(main())
        interrupted = daemon.stopped_by == "SIGINT"
        if args.rehearse:
            print(_summary(daemon, clock.now(), until, interrupted), file=ctx.out)
        return 130 if interrupted else code


def _summary(daemon: Daemon, now: datetime, until: datetime | None, interrupted: bool) -> str:
    """The rehearsal's last line: how far it got on virtual time and what this run did."""
    counts = daemon.this_run()
    done = output.counts_line(counts) if counts else "this run recorded nothing"
    if interrupted:
        return (f"rehearsal interrupted at {utc_text(now)} (virtual), before "
                f"{utc_text(until) if until else 'its end'}: {done}")
    return f"rehearsal finished at {utc_text(now)} (virtual): {done}"
