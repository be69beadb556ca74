"""What `pushcal run` tells the outside, built from its options and environment.

Each piece (alerts now; the ping and metrics beside them) is an observer of the daemon's
event log, started before the daemon and closed after it, so the daemon stops first and its
last words (`stopped`) still go out.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from runner.cli.context import UsageError
from runner.daemon.alerts import Commands
from runner.daemon.events import EventLog
from runner.daemon.notify import Notifier, Target

SECRET_ENV = "PUSHCAL_NOTIFY_SECRET"
KEY_ENVS = ("ONEALL_PRIVATE_KEY", SECRET_ENV)  # scrubbed from every alert body, just in case


def checked_url(url: str, option: str) -> str:
    """`url` if it is an absolute http(s) URL; else a usage error that does not echo it
    (a webhook URL is a secret)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} needs an http:// or https:// URL with a host "
                         f"(got one starting {url[:8]!r}...)")
    return url


def targets(args: argparse.Namespace, env: Mapping[str, str]) -> list[Target]:
    """The webhooks from --notify/--notify-json, else from $PUSHCAL_NOTIFY(_JSON)."""
    slack = args.notify or env.get("PUSHCAL_NOTIFY", "").split()
    generic = args.notify_json or env.get("PUSHCAL_NOTIFY_JSON", "").split()
    return ([Target(checked_url(u, "--notify"), "slack") for u in slack]
            + [Target(checked_url(u, "--notify-json"), "json") for u in generic])


def commands(args: argparse.Namespace) -> Commands:
    """How fix commands name this daemon's calendar and ledger."""
    state = f" --state {shlex.quote(str(args.state))}" if args.state_given else ""
    return Commands(" ".join(shlex.quote(p) for p in args.paths), state)


@contextmanager
def telling(args: argparse.Namespace, env: Mapping[str, str], log: EventLog) -> Iterator[None]:
    """Start the observers `args` ask for; close them (flushing alerts) on the way out."""
    found: Sequence[Target] = targets(args, env)
    notifier = None
    if found:
        secret = env.get(SECRET_ENV)
        notifier = Notifier(found, commands=commands(args), log=log,
                            secret=secret.encode() if secret else None,
                            redact=[env.get(name, "") for name in KEY_ENVS]).start()
        log.observe(notifier)
    try:
        yield
    finally:
        if notifier is not None:
            notifier.close()
