"""What to do next about a ledger row: the command a person types, written out in full.

Every answer that leaves something to do names the command for it, with this calendar's
paths and the row's own key and account, so it can be copied as it stands.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import datetime

from runner.clock import duration_text, utc_text
from runner.ledger import Row, State


def calendar_words(paths: Sequence[str]) -> str:
    """The calendar paths as the user gave them, or a placeholder when none were given."""
    return " ".join(shlex.quote(p) for p in paths) if paths else "CALENDAR"


def next_step(row: Row, paths: Sequence[str], now: datetime) -> str | None:
    """The next step for a row that waits for someone, or None."""
    cal, key, account = calendar_words(paths), shlex.quote(row.key), shlex.quote(row.account)
    if row.state is State.UNKNOWN:
        return (f"next: pushcal check {cal} --entry {shlex.quote(row.entry)}, then "
                f"pushcal resolve {key} --account {account} --sent (or --not-sent)")
    if row.state in (State.FAILED, State.MISSED):
        return f"next: pushcal send {cal} {key} --account {account} --force"
    if row.state is State.RETRY_WAIT and row.next_attempt is not None:
        due, wait = utc_text(row.next_attempt), row.next_attempt - now
        if wait.total_seconds() > 0:
            return f"next: nothing to do; the daemon (pushcal run) retries it at {due}, in " \
                   f"{duration_text(wait)}"
        return f"next: nothing to do while the daemon (pushcal run) runs: it retries it now " \
               f"(due since {due})"
    return None


def already(state: State | str, key: str, account: str, paths: Sequence[str]) -> str:
    """Why `send` did not send, and how to send anyway when that is safe."""
    text = f"{key} -> {account}: not sent: already {state}"
    if state in (State.FAILED, State.MISSED, State.CANCELLED):
        return (f"{text}; send it again with: pushcal send {calendar_words(paths)} "
                f"{shlex.quote(key)} --account {shlex.quote(account)} --force")
    if state is State.UNKNOWN:
        return (f"{text} (it may have been posted): pushcal check {calendar_words(paths)}, "
                f"then pushcal resolve {shlex.quote(key)} --account {shlex.quote(account)}")
    return text
