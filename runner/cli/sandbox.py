"""`pushcal sandbox`: run the loopback OneAll emulator in the foreground."""

from __future__ import annotations

import argparse
import errno

from runner.cli.context import Context, UsageError
from runner.errors import PushcalError
from runner.sandbox import Faults, serve_forever


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Serve until interrupted, with the faults the options ask for."""
    codes = tuple(c.strip() for c in args.fail_codes.split(",") if c.strip())
    try:
        faults = Faults(latency_ms=args.latency_ms, fail_rate=args.fail_rate, fail_codes=codes,
                        seed=args.seed)
    except ValueError as error:
        raise UsageError(f"sandbox: {error}") from None
    try:
        if serve_forever(args.host, args.port, faults, ctx.out):
            return 130
    except OSError as error:  # the port is taken, or the address is not on this machine
        reason = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
        raise PushcalError(f"sandbox: {args.host} port {args.port} {reason}; pick another with "
                           "--port (0 picks a free one)") from None
    return 0
