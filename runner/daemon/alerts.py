"""What needs a person, in words: daemon events become `Alert`s, and a batch becomes a message.

Pure code: `alert_of` reads one event of the log (the daemon's observer interface, see
`runner.daemon.events`) and says whether someone must hear of it; `slack_document` and
`event_document` write a batch of alerts as the two payloads `pushcal run --notify` posts.
Each alert says what happened, to which entry and account, and the command that fixes it.
Nothing here sees a key: alerts are made of the log's fields, which never hold one.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["failed", "unknown", "missed", "recovered", "error", "task-failing",
               "reload-rejected", "ledger-lost", "started", "stopped"]
LISTED = 20  # a grouped message lists this many alerts, then says how many more
_TITLES: dict[Kind, str] = {
    "failed": "delivery failed", "unknown": "delivery unknown (it may have been posted)",
    "missed": "occurrence missed", "recovered": "recovered after a crash: unknown",
    "error": "unexpected error while sending", "task-failing": "a daemon task is failing",
    "reload-rejected": "calendar reload rejected",
    "ledger-lost": "ledger unreachable", "started": "daemon started", "stopped": "daemon stopped",
}


@dataclass(frozen=True)
class Alert:
    """One event a person must hear of; entry, account and key are empty for daemon events."""

    kind: Kind
    at: str
    reason: str
    fix: str = ""
    entry: str = ""
    account: str = ""
    key: str = ""

    def line(self) -> str:
        """One line of text: what, to which entry and account, why, and the fix."""
        where = ""
        if self.entry:
            key = f" ({self.key})" if self.key and self.key != self.entry else ""
            where = f" {self.entry}{key} on {self.account}:"
        reason = f" {self.reason}." if self.reason else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{_TITLES[self.kind]}:{where}{reason}{fix}"


@dataclass(frozen=True)
class Commands:
    """How to name the calendar and the ledger in a fix command (`pushcal send CAL ...`)."""

    paths: str
    state: str = ""  # " --state FILE" when the daemon was given one

    def fix(self, kind: Kind, entry: str, account: str, key: str) -> str:
        """The command that settles an alert of this kind."""
        at_key = f" --key {key}" if key and key != entry else ""
        if kind in ("unknown", "recovered", "error"):
            return (f"pushcal check {self.paths} --entry {entry}{self.state}, then "
                    f"pushcal resolve {entry} --account {account}{at_key} --sent|--not-sent"
                    f"{self.state}")
        if kind in ("failed", "missed"):
            return f"pushcal send {self.paths} {entry} --account {account} --force{self.state}"
        if kind == "reload-rejected":
            return f"pushcal validate {self.paths} (the last valid calendar stays in use)"
        if kind == "ledger-lost":
            return "bring the database back; pushcal status shows when it answers again"
        return ""


def alert_of(event: str, fields: Mapping[str, Any], commands: Commands, at: str) -> Alert | None:
    """The alert an event (logged at `at`) calls for, or None when nobody needs to hear of it."""
    if event in ("delivered", "recovered", "orphaned", "concluded"):
        state = fields.get("state")
        if state not in ("failed", "unknown"):
            return None
        kind: Kind = "recovered" if event in ("recovered", "orphaned") else state
        return _row_alert(kind, at, str(fields.get("info", "")), fields, commands)
    if event == "missed":
        return _row_alert("missed", at, str(fields.get("reason", "")), fields, commands)
    if event == "error" and fields.get("entry"):
        return _row_alert("error", at, str(fields.get("error", "")), fields, commands)
    if event == "error" and fields.get("task"):
        return Alert("task-failing", at, f"{fields['task']}: {fields.get('error', '')}",
                     "pushcal status --check shows it; the daemon keeps running and retries")
    if event == "reload-rejected":
        found = fields.get("problems")
        why = f"{found} problems" if found else str(fields.get("error", ""))
        return Alert("reload-rejected", at, f"{why} ({fields.get('reason', '')})",
                     commands.fix("reload-rejected", "", "", ""))
    if event in ("ledger-lost", "fatal"):  # fatal: the ledger cannot be trusted, it stops
        return Alert("ledger-lost", at, str(fields.get("error", "")),
                     commands.fix("ledger-lost", "", "", ""))
    if event in ("started", "stopped"):
        told = ", ".join(f"{k} {v}" for k, v in fields.items())
        return Alert(event, at, f"on {socket.gethostname()}: {told}")  # type: ignore[arg-type]
    return None


def _row_alert(kind: Kind, at: str, reason: str, fields: Mapping[str, Any],
               commands: Commands) -> Alert:
    entry, account = str(fields.get("entry", "")), str(fields.get("account", ""))
    key = str(fields.get("key", entry))
    return Alert(kind, at, reason, commands.fix(kind, entry, account, key), entry, account, key)


def summary(alerts: Sequence[Alert]) -> str:
    """The text of one message for a batch: one line alone, else counts and a list."""
    if len(alerts) == 1:
        return f"pushcal: {alerts[0].line()}"
    counts = Counter(alert.kind for alert in alerts)
    head = ", ".join(f"{n} {_TITLES[kind].split(' (')[0]}" for kind, n in counts.items())
    lines = [f"pushcal: {len(alerts)} events need attention: {head}"]
    lines += [f"- {alert.line()}" for alert in alerts[:LISTED]]
    if len(alerts) > LISTED:
        lines.append(f"... and {len(alerts) - LISTED} more: pushcal status lists them")
    return "\n".join(lines)


def slack_document(alerts: Sequence[Alert]) -> dict[str, Any]:
    """An incoming-webhook body for Slack (and Mattermost, Rocket.Chat, Discord's /slack)."""
    return {"username": "pushcal", "text": summary(alerts)}


def event_document(alerts: Sequence[Alert], ident: str) -> dict[str, Any]:
    """The generic JSON event: every alert as fields, for programs (signed when a secret is set)."""
    return {"source": "pushcal", "version": 1, "id": ident, "host": socket.gethostname(),
            "summary": summary(alerts), "alerts": [asdict(alert) for alert in alerts]}
