"""Every command's arguments, in one light module: building the parser imports no room.

Each command's work lives in its own module (`runner.cli.<command>`), loaded only when that
command runs, so `pushcal validate` never pays for httpx or APScheduler. Option values are
checked here (`runner.cli.values`), so a bad one is one line and exit 2 before any work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from runner import __version__
from runner.cli import values
from runner.cli.examples import EXAMPLES

STATE_HELP = ("ledger: a file, or a postgresql:// URL shared by several daemons (default: "
              "$PUSHCAL_STATE, else $XDG_STATE_HOME/pushcal/ledger.sqlite, "
              "else ~/.local/state/pushcal/ledger.sqlite)")
TIME_HELP = "ISO 8601 with Z or an offset, or a wall time in the calendar's zone"

# command name -> the module that runs it (each has `run(args, ctx) -> int`)
MODULES = {
    "validate": "runner.cli.validate", "plan": "runner.cli.plan", "send": "runner.cli.send",
    "status": "runner.cli.status", "history": "runner.cli.history",
    "resolve": "runner.cli.resolve", "check": "runner.cli.check",
    "sandbox": "runner.cli.sandbox", "ledger": "runner.cli.ledger", "run": "runner.cli.run",
    "diff": "runner.cli.diff", "agenda": "runner.cli.agenda", "calendar": "runner.cli.calendar",
    "schema": "runner.cli.schema", "init": "runner.cli.init",
}
REVIEW_STATE_HELP = ("show what the ledger recorded for each delivery; FILE defaults as for "
                     "plan ($PUSHCAL_STATE, else $XDG_STATE_HOME/pushcal/ledger.sqlite)")


class Parser(argparse.ArgumentParser):
    """argparse with pushcal's errors: a bad value is one line; a wrong option shows usage."""

    def error(self, message: str) -> NoReturn:
        if not message.startswith("argument "):  # unknown or missing arguments: show usage
            self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


class _Help(argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option that has one; examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return f"{text} (default: %(default)s)"


def _sending(p: argparse.ArgumentParser) -> None:
    """The options of the commands that send: `send` and `run`."""
    p.add_argument("--state", metavar="FILE|URL", help=STATE_HELP)
    p.add_argument("--sandbox", action="store_true",
                   help="send to a sandbox started in this process (and a throwaway ledger "
                        "unless --state is given)")
    _read_timeout(p)


def _read_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--read-timeout", type=values.SECONDS, default=30.0, metavar="SECONDS",
                   help="how long to wait for OneAll's answer before the outcome is unknown")


def _paths(p: argparse.ArgumentParser, nargs: str = "+") -> None:
    p.add_argument("paths", nargs=nargs, metavar="PATH",
                   help="calendar files or directories of them")


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


def _reviews(sub: argparse._SubParsersAction[Parser]) -> None:
    """The commands that show the schedule for review."""
    p = sub.add_parser("diff", help="what a change does to the schedule, per delivery",
                       usage="pushcal diff [BASE [HEAD]] [PATH...] [options]")
    p.add_argument("args", nargs="*", metavar="BASE HEAD PATH",
                   help="revisions (default: the merge base with the upstream branch, and the "
                        "working tree), then calendar paths (default: .)")
    p.add_argument("-C", dest="directory", default=".", metavar="DIR",
                   help="run as if started in DIR (paths are relative to it)")
    p.add_argument("--format", choices=("text", "markdown", "json", "github"), default="text",
                   help="github: notices on the changed lines, and the Markdown as the job "
                        "summary ($GITHUB_STEP_SUMMARY)")
    _review(p, 90)

    p = sub.add_parser("agenda", help="one line per occurrence, grouped by day")
    _paths(p)
    p.add_argument("--account", action="append", metavar="NAME",
                   help="only this account (repeat for several)")
    _review(p, 30)

    p = sub.add_parser("calendar", help="write the schedule as an HTML page or an ICS feed")
    _paths(p)
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


def command(sub: argparse._SubParsersAction[Parser], name: str,
            summary: str) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary, its description and its examples."""
    return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                          epilog=EXAMPLES.get(name), formatter_class=_Help)


def build() -> Parser:
    """The `pushcal` argument parser."""
    parser = Parser(prog="pushcal", formatter_class=_Help, epilog=EXAMPLES["pushcal"],
                    description="A content calendar kept as code, published through the "
                                "OneAll Push API.")
    parser.add_argument("--version", action="version", version=f"pushcal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=Parser)

    p = command(sub, "validate", "check calendar files; print every problem")
    _paths(p)
    p.add_argument("--hook", action="store_true",
                   help="pre-commit mode: PATHs are staged files; YAML that is not a calendar is "
                        "skipped, except inside a --calendar directory, where it is an error")
    p.add_argument("--calendar", action="append", metavar="DIR",
                   help="with --hook: a calendar directory; a file under it is checked with all "
                        "of the directory (repeat for several)")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text for people, json for tools, github for pull-request annotations")

    p = command(sub, "plan", "show every request that will be sent, and when")
    _paths(p)
    p.add_argument("--from", dest="start", metavar="TIME",
                   help=f"window start: {TIME_HELP} (default: now)")
    p.add_argument("--to", dest="end", metavar="TIME",
                   help="window end, same forms (default: 30 days after the start)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output form")
    p.add_argument("--state", metavar="FILE|URL", help=STATE_HELP + "; read only, for each row's state")

    p = command(sub, "send", "publish one entry now, through the ledger")
    p.add_argument("args", nargs="+", metavar="PATH... ENTRY",
                   help="calendar files, then the entry's id or an occurrence key id@YYYY-MM-DD")
    p.add_argument("--account", metavar="NAME", help="only this account of the entry")
    _sending(p)
    p.add_argument("--force", action="store_true",
                   help="send again an occurrence that failed, was missed or cancelled "
                        "(never one that was sent or may have been)")

    p = command(sub, "status", "counts per state and what needs attention")
    _paths(p, "*")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when any delivery is unknown, failed or missed, or the ledger "
                        "is missing (for monitoring)")
    p.add_argument("--state", metavar="FILE|URL", help=STATE_HELP)

    p = command(sub, "history", "list recorded outcomes")
    _paths(p, "*")
    p.add_argument("--entry", metavar="ID", help="only this entry (or one occurrence: id@YYYY-MM-DD)")
    p.add_argument("--since", metavar="TIME",
                   help=f"only deliveries scheduled from this time on: {TIME_HELP}")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output form")
    p.add_argument("--state", metavar="FILE|URL", help=STATE_HELP)

    p = command(sub, "resolve", "settle an `unknown` delivery by hand")
    p.add_argument("entry", metavar="ENTRY", help="the entry's id, or one occurrence id@YYYY-MM-DD")
    p.add_argument("--account", required=True, metavar="NAME", help="the account it went to")
    p.add_argument("--key", metavar="KEY", help="one occurrence of a repeating entry (id@YYYY-MM-DD)")
    outcome = p.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--sent", action="store_true", help="it did go out")
    outcome.add_argument("--not-sent", action="store_true", help="it did not: send it again")
    p.add_argument("--location", metavar="URL",
                   help="with --sent: where it went out, as pushcal check found it (kept in history)")
    p.add_argument("--state", metavar="FILE|URL", help=STATE_HELP)

    p = command(sub, "check", "look for `unknown` deliveries in OneAll's Pull API")
    _paths(p)
    p.add_argument("--entry", metavar="ID", help="only this entry's unknown deliveries")
    p.add_argument("--state", metavar="FILE|URL", help=STATE_HELP)
    _read_timeout(p)

    p = command(sub, "ledger", "work on a ledger itself: copy it elsewhere")
    ledger_sub = p.add_subparsers(dest="ledger_command", required=True, metavar="ACTION",
                                  help="copy")
    copy = ledger_sub.add_parser("copy", help="copy every delivery and its history into an "
                                 "empty ledger (e.g. an SQLite file into PostgreSQL)")
    copy.add_argument("source", metavar="SRC", help="ledger file or postgresql:// URL")
    copy.add_argument("target", metavar="DST", help="an empty (or new) ledger: file or URL")

    p = command(sub, "sandbox", "run a loopback OneAll emulator")
    p.add_argument("--host", type=values.loopback, default="127.0.0.1",
                   help="loopback address to listen on")
    p.add_argument("--port", type=values.PORT, default=8765, help="TCP port (0: any free one)")
    p.add_argument("--latency-ms", type=values.MILLISECONDS, default=0.0, metavar="MS",
                   help="delay before each answer")
    p.add_argument("--fail-rate", type=values.RATE, default=0.0, metavar="RATE",
                   help="share of push requests answered with a fault, from 0 to 1")
    p.add_argument("--fail-codes", default="503",
                   help="comma-separated HTTP codes or named faults "
                        "(drop, timeout, reset-after, refuse)")
    p.add_argument("--seed", type=values.SEED, help="seed for the fault dice (default: random)")

    p = command(sub, "run", "the daemon: publish every entry at its time")
    _paths(p)
    _sending(p)
    p.add_argument("--rehearse", action="store_true",
                   help="play the calendar on virtual time (with --sandbox), from --from to --until")
    p.add_argument("--speed", type=values.SPEED, default=36000.0,
                   help="virtual seconds per real second when rehearsing (36000: a week in 17 s)")
    p.add_argument("--from", dest="start", metavar="TIME",
                   help=f"rehearsal start: {TIME_HELP} (default: now)")
    p.add_argument("--until", dest="end", metavar="TIME",
                   help="stop after this time (rehearsal default: 7 days after the start)")
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="log form")
    p.add_argument("--heartbeat", type=Path, metavar="FILE",
                   help="liveness file rewritten every 5 s: pid, alive_at, last_fire, attention")
    p.add_argument("--horizon", type=values.HOURS, default=48.0, metavar="HOURS",
                   help="how far ahead occurrences are loaded into the scheduler")
    _telling(p)
    _reviews(sub)
    _teach(sub)
    return parser


def _teach(sub: argparse._SubParsersAction[Parser]) -> None:
    """Every command gets a description, its examples and shown defaults, however it was
    added (the review commands add themselves)."""
    summaries = {action.dest: action.help for action in sub._choices_actions}
    for name, p in sub.choices.items():
        p.description = p.description or (summaries.get(name) or name).capitalize() + "."
        p.epilog = p.epilog or EXAMPLES.get(name)
        p.formatter_class = _Help


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
    p.add_argument("--ping-every", type=values.SECONDS, default=60.0, metavar="SECONDS",
                   help="seconds between two pings")
    p.add_argument("--callback-listen", metavar="HOST:PORT",
                   help="receive OneAll's results of video uploads (Twitter, YouTube) here")
    p.add_argument("--callback-url", metavar="URL",
                   help="the public URL that reaches --callback-listen, for accounts without "
                        "callback_url (default: http://HOST:PORT/oneall-callback)")
    p.add_argument("--callback-timeout", type=values.HOURS, default=24.0, metavar="HOURS",
                   help="an accepted upload with no result after this long becomes unknown")
    p.add_argument("--metrics", metavar="HOST:PORT",
                   help="serve Prometheus metrics at http://HOST:PORT/metrics "
                        "(a bare PORT listens on 127.0.0.1)")


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of one command, to report its errors with its own usage."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser
