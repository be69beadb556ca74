"""`pushcal run PATH...`: the daemon, or a rehearsal of it on virtual time."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from runner.calendar import Loader
from runner.cli import observers, output, wiring
from runner.cli.context import Context, UsageError
from runner.cli.moments import moment
from runner.clock import Clock, ScaledClock, utc_text
from runner.daemon import Daemon, DaemonOptions, EarlySignals, EventLog, route_library_logs


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Validate, open the ledger (refusing a second daemon), publish until stopped."""
    signals = EarlySignals().install()  # before anything: a SIGHUP now must not kill us
    if args.rehearse and not args.sandbox:
        raise UsageError("--rehearse plays the calendar on virtual time: it needs --sandbox")
    observers.check(args, ctx.env)
    loader = Loader(args.paths)
    cal = loader.load()
    start = moment(args.start, cal, "--from") if args.start else ctx.clock()
    clock: Clock = (ScaledClock(start, args.speed, ctx.clock) if args.rehearse
                    else wiring.RealClock(ctx))
    until = moment(args.end, cal, "--until") if args.end else None
    if args.rehearse and until is None:
        until = start + timedelta(days=7)
    log = EventLog(ctx.err, fmt=args.log_format, clock=clock.now)
    health = None if args.sandbox and not args.state_given else args.state.with_name(
        args.state.name + ".health")
    options = DaemonOptions(horizon=timedelta(hours=args.horizon), until=until,
                            heartbeat=args.heartbeat, health=health, signals=signals)
    with (route_library_logs(log), observers.telling(args, ctx.env, log) as outside,
          wiring.client(args.sandbox, ctx, args.read_timeout) as client,
          wiring.ledger(args, clock.now, log) as ledger):
        ledger.acquire_daemon_lock()
        daemon = Daemon(loader, cal, ledger=ledger, client=outside.sender(client), clock=clock,
                        log=log, options=options)
        outside.attach(daemon, ledger)

        async def main() -> int:
            async with client:
                return await daemon.run()

        code = asyncio.run(main())
        if args.rehearse:
            print(f"rehearsal finished at {utc_text(clock.now())}: "
                  f"{output.counts_line(ledger.counts())}", file=ctx.out)
        return code
