"""What `pushcal run` tells the outside, built from its options and environment.

Each piece (alerts, the dead-man ping, metrics) is an observer of the daemon's
event log, started before the daemon and closed after it, so the daemon stops first and its
last words (`stopped`) still go out.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from runner.cli.context import UsageError
from runner.clock import Clock
from runner.daemon import Daemon
from runner.daemon.alerts import Commands
from runner.daemon.callback_server import serve as serve_callbacks
from runner.daemon.callback_server import sweeping
from runner.daemon.events import EventLog
from runner.daemon.metrics import Metrics
from runner.daemon.notify import Notifier, Target
from runner.daemon.ping import Ping, heartbeat_fresh, ledger_answers
from runner.daemon.results import Results
from runner.delivery import CallbackUrls, Sender
from runner.ledger import NEEDS_A_HUMAN, Ledger

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


def listen_address(text: str, option: str) -> tuple[str, int]:
    """`HOST:PORT`, `[V6]:PORT` or a bare `PORT` (loopback) as (host, port)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"{option} takes HOST:PORT (or a port, on loopback), not {text!r}")
    return host, int(port)


def check(args: argparse.Namespace, env: Mapping[str, str]) -> None:
    """Refuse bad observer options before anything starts (usage errors, exit 2)."""
    targets(args, env)
    if args.ping:
        checked_url(args.ping, "--ping")
        if args.ping_every <= 0:
            raise UsageError(f"--ping-every takes a number of seconds above 0, not {args.ping_every:g}")
    if args.metrics:
        listen_address(args.metrics, "--metrics")
    if args.callback_listen:
        listen_address(args.callback_listen, "--callback-listen")
    if args.callback_url:
        checked_url(args.callback_url, "--callback-url")


@dataclass
class Outside:
    """The observers one daemon run uses; `attach` gives them the running daemon."""

    notifier: Notifier | None = None
    metrics: Metrics | None = None
    ping: Ping | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def sender(self, client: Sender) -> Sender:
        """The client the daemon sends through (timed, when there are metrics)."""
        return client if self.metrics is None else self.metrics.sender(client)

    @contextmanager
    def results(self, args: argparse.Namespace, ledger: Ledger, clock: Clock,
                log: EventLog) -> Iterator[CallbackUrls]:
        """Conclude async uploads while inside (the receiver if asked, the sweep always),
        yielding where their callbacks are to go; both stop before the ledger closes."""
        timeout = timedelta(hours=args.callback_timeout)
        results = Results(ledger, log, clock=clock.now, timeout=timeout)
        every = min(60.0, max(0.05, clock.real_seconds(timeout.total_seconds()) / 10))
        stops = [sweeping(results, every, log)]
        try:
            if not args.callback_listen:
                yield CallbackUrls(args.callback_url)
                return
            host, port = listen_address(args.callback_listen, "--callback-listen")
            stop, port = serve_callbacks(results, host, port)
            stops.append(stop)
            base = args.callback_url or f"http://{_host(host)}:{port}/oneall-callback"
            log("callbacks-listening", address=f"{_host(host)}:{port}",
                url=urlsplit(base)._replace(query="").geturl())
            yield CallbackUrls(base)
        finally:
            for stop in reversed(stops):
                stop()

    def attach(self, daemon: Daemon, ledger: Ledger) -> None:
        """Point the scrape-time readings and the ping's health checks at the daemon, and
        remind the webhooks of what still needs a person."""
        if self.notifier is not None:
            self.notifier.remind(ledger.rows(states=NEEDS_A_HUMAN))
        if self.ping is not None:
            self.ping.checks.append(ledger_answers(ledger))
            self.ping.checks.append(lambda: "; ".join(
                f"task {name} failing: {why}" for name, why in
                sorted(dict(daemon.supervisor.failing).items())) or None)
            beat = daemon.options.heartbeat
            if beat is not None:  # three missed beats: the daemon cannot write it
                self.ping.checks.append(heartbeat_fresh(beat, 3 * daemon.options.heartbeat_every))
        if self.metrics is not None:
            present = self.metrics.present
            present.depths, present.next_fire = daemon.workers.depths, daemon.jobs.next_due
            present.ledger = ledger
            present.provider_of = lambda account: daemon.calendar.accounts[account].provider


@contextmanager
def telling(args: argparse.Namespace, env: Mapping[str, str], log: EventLog) -> Iterator[Outside]:
    """Start the observers `args` ask for; close them (flushing alerts) on the way out."""
    outside = Outside()
    found: Sequence[Target] = targets(args, env)
    metrics_at = listen_address(args.metrics, "--metrics") if args.metrics else None
    if found:
        secret = env.get(SECRET_ENV)
        outside.notifier = Notifier(found, commands=commands(args), log=log,
                                    secret=secret.encode() if secret else None,
                                    redact=[env.get(name, "") for name in KEY_ENVS]).start()
        log.observe(outside.notifier)
        outside.closers.append(outside.notifier.close)
    if args.ping:
        outside.ping = Ping(args.ping, every=args.ping_every, log=log)
        log.observe(outside.ping)
        outside.closers.insert(0, outside.ping.close)
    try:
        if metrics_at is not None:
            outside.metrics = Metrics()
            log.observe(outside.metrics)
            stop, port = outside.metrics.serve(*metrics_at)
            outside.closers.insert(0, stop)
            log("metrics-listening", url=f"http://{_host(metrics_at[0])}:{port}/metrics")
        yield outside
    finally:
        for close in outside.closers:
            close()


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
