"""Every command's arguments, in one light module: building the parser imports no room.

Each command's work lives in its own module (`runner.cli.<command>`), loaded only when that
command runs, so `pushcal validate` never pays for httpx or APScheduler.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runner import __version__

STATE_HELP = ("ledger file (default: $PUSHCAL_STATE, else $XDG_STATE_HOME/pushcal/ledger.sqlite, "
              "else ~/.local/state/pushcal/ledger.sqlite)")

# command name -> the module that runs it (each has `run(args, ctx) -> int`)
MODULES = {
    "validate": "runner.cli.validate", "plan": "runner.cli.plan", "send": "runner.cli.send",
    "status": "runner.cli.status", "history": "runner.cli.history",
    "resolve": "runner.cli.resolve", "check": "runner.cli.check",
    "sandbox": "runner.cli.sandbox", "run": "runner.cli.run",
    "diff": "runner.cli.diff", "agenda": "runner.cli.agenda", "calendar": "runner.cli.calendar",
    "schema": "runner.cli.schema", "init": "runner.cli.init",
}
REVIEW_STATE_HELP = ("show what the ledger recorded for each delivery; FILE defaults as for "
                     "plan ($PUSHCAL_STATE, else $XDG_STATE_HOME/pushcal/ledger.sqlite)")


def _sending(p: argparse.ArgumentParser) -> None:
    """The options of the commands that send: `send` and `run`."""
    p.add_argument("--state", type=Path, help=STATE_HELP)
    p.add_argument("--sandbox", action="store_true",
                   help="send to a sandbox started in this process (and a throwaway ledger "
                        "unless --state is given)")
    p.add_argument("--read-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for OneAll's answer before the outcome is unknown")


def _window(p: argparse.ArgumentParser, days: int) -> None:
    """--from/--to: the window that keeps endless repetitions finite."""
    p.add_argument("--from", dest="start", metavar="TIME",
                   help="window start: ISO 8601 with Z or an offset, or a wall time in the "
                        "calendar's zone (default: now)")
    p.add_argument("--to", dest="end", metavar="TIME", help=f"window end (default: {days} days on)")


def _review(p: argparse.ArgumentParser, days: int) -> None:
    """What the review commands share: the window, the ledger view, colour."""
    _window(p, days)
    p.add_argument("--state", nargs="?", const="", metavar="FILE", help=REVIEW_STATE_HELP)
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text (default auto: on a terminal, unless NO_COLOR is set)")


def _reviews(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands that show the schedule for review."""
    p = sub.add_parser("diff", help="what a change does to the schedule, per delivery")
    p.add_argument("args", nargs="*", metavar="[BASE [HEAD]] [PATH...]",
                   help="revisions (default: the merge base with the upstream branch, and the "
                        "working tree), then calendar paths (default: .)")
    p.add_argument("-C", dest="directory", default=".", metavar="DIR",
                   help="run as if started in DIR (paths are relative to it)")
    p.add_argument("--format", choices=("text", "markdown", "json", "github"), default="text",
                   help="github: notices on the changed lines, and the Markdown as the job "
                        "summary ($GITHUB_STEP_SUMMARY)")
    _review(p, 90)

    p = sub.add_parser("agenda", help="one line per delivery, grouped by day")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--account", action="append", metavar="NAME",
                   help="only this account (repeat for several)")
    _review(p, 30)

    p = sub.add_parser("calendar", help="write the schedule as an HTML page or an ICS feed")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--html", type=Path, metavar="FILE",
                   help="one self-contained HTML file: month and week views, no network")
    p.add_argument("--ics", type=Path, metavar="FILE", help="an RFC 5545 feed to subscribe to")
    p.add_argument("--title", default="pushcal", help="the page's and feed's name (default: pushcal)")
    p.add_argument("--state", nargs="?", const="", metavar="FILE", help=REVIEW_STATE_HELP)
    _window(p, 90)

    sub.add_parser("schema", help="print the calendar's JSON Schema (for editors and checkers)")

    p = sub.add_parser("init", help="write a starter calendar repository")
    p.add_argument("directory", nargs="?", default=".", metavar="DIR",
                   help="where (default: here); existing files are never overwritten")


def build() -> argparse.ArgumentParser:
    """The `pushcal` argument parser."""
    parser = argparse.ArgumentParser(prog="pushcal", description=(
        "A content calendar kept as code, published through the OneAll Push API."))
    parser.add_argument("--version", action="version", version=f"pushcal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check calendar files; print every problem")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--hook", action="store_true",
                   help="pre-commit mode: PATHs are staged files; YAML that is not a calendar is "
                        "skipped, except inside a --calendar directory, where it is an error")
    p.add_argument("--calendar", action="append", metavar="DIR",
                   help="with --hook: a calendar directory; a file under it is checked with all "
                        "of the directory (repeat for several)")
    p.add_argument("--format", choices=("text", "json", "github"), default="text")

    p = sub.add_parser("plan", help="show every request that will be sent, and when")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--from", dest="start", metavar="TIME",
                   help="window start: ISO 8601 with Z or an offset, or a wall time in the "
                        "calendar's zone (default: now)")
    p.add_argument("--to", dest="end", metavar="TIME", help="window end (default: 30 days on)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("send", help="publish one entry now, through the ledger")
    p.add_argument("args", nargs="+", metavar="PATH... ENTRY")
    p.add_argument("--account", metavar="NAME", help="only this account of the entry")
    _sending(p)
    p.add_argument("--force", action="store_true",
                   help="send again an occurrence that failed, was missed or cancelled "
                        "(never one that was sent or may have been)")

    p = sub.add_parser("status", help="counts per state and what needs attention")
    p.add_argument("paths", nargs="*", metavar="PATH", help="calendar, to show the next firings")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when any delivery is unknown, failed or missed (for monitoring)")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("history", help="list recorded outcomes")
    p.add_argument("--entry", metavar="ID")
    p.add_argument("--since", metavar="TIME", help="ISO 8601 with Z or an offset")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("resolve", help="settle an `unknown` delivery by hand")
    p.add_argument("entry", metavar="ENTRY")
    p.add_argument("--account", required=True, metavar="NAME")
    p.add_argument("--key", metavar="KEY", help="one occurrence of a repeating entry")
    outcome = p.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--sent", action="store_true", help="it did go out")
    outcome.add_argument("--not-sent", action="store_true", help="it did not: send it again")
    p.add_argument("--state", type=Path, help=STATE_HELP)

    p = sub.add_parser("check", help="look for `unknown` deliveries in OneAll's Pull API")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--entry", metavar="ID", help="only this entry's unknown deliveries")
    p.add_argument("--state", type=Path, help=STATE_HELP)
    p.add_argument("--read-timeout", type=float, default=30.0, metavar="SECONDS")

    p = sub.add_parser("sandbox", help="run a loopback OneAll emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--fail-codes", default="503",
                   help="comma-separated HTTP codes or named faults "
                        "(drop, timeout, reset-after, refuse)")
    p.add_argument("--seed", type=int)

    p = sub.add_parser("run", help="the daemon: publish every entry at its time")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _sending(p)
    p.add_argument("--rehearse", action="store_true",
                   help="play the calendar on virtual time (with --sandbox), from --from to --until")
    p.add_argument("--speed", type=float, default=36000.0,
                   help="virtual seconds per real second when rehearsing (default 36000: a week in 17 s)")
    p.add_argument("--from", dest="start", metavar="TIME", help="rehearsal start (default: now)")
    p.add_argument("--until", dest="end", metavar="TIME",
                   help="stop after this time (rehearsal default: 7 days on)")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--heartbeat", type=Path, metavar="FILE",
                   help="liveness file rewritten every 5 s: pid, alive_at, last_fire, attention")
    p.add_argument("--horizon", type=float, default=48.0, metavar="HOURS",
                   help="how far ahead occurrences are loaded into the scheduler")
    _telling(p)
    _reviews(sub)
    return parser


def _telling(p: argparse.ArgumentParser) -> None:
    """`run`'s options for telling the outside: alerts, the dead-man ping, metrics."""
    p.add_argument("--notify", action="append", default=[], metavar="URL",
                   help="post a Slack-compatible message (also Mattermost, Rocket.Chat, Discord's "
                        "/slack) for each event that needs a person; repeatable "
                        "(default: $PUSHCAL_NOTIFY, space-separated)")
    p.add_argument("--notify-json", action="append", default=[], metavar="URL",
                   help="post the generic JSON event, signed with HMAC-SHA256 when "
                        "$PUSHCAL_NOTIFY_SECRET is set; repeatable (default: $PUSHCAL_NOTIFY_JSON)")
    p.add_argument("--ping", metavar="URL",
                   help="dead-man ping: POST to URL every --ping-every seconds while healthy, "
                        "to URL/fail when the ledger, calendar or heartbeat is not (healthchecks.io)")
    p.add_argument("--ping-every", type=float, default=60.0, metavar="SECONDS")
    p.add_argument("--metrics", metavar="HOST:PORT",
                   help="serve Prometheus metrics at http://HOST:PORT/metrics "
                        "(a bare PORT listens on 127.0.0.1)")
