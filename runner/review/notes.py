"""What the ledger makes of a change: the sentence a reviewer needs beside it. Pure.

The rules are the daemon's (docs/design.md, "Delivery semantics"): a one-off's key has no
time, so a sent post moved in the file is the same delivery and never goes again; states
other than planned and cancelled are settled and never scheduled again.
"""

from __future__ import annotations

from datetime import datetime

from runner.ledger.contract import Row, State
from runner.review.changes import Change, What

_EDITS = frozenset({What.TEXT, What.MEDIA, What.DETAILS, What.ENABLED, What.DISABLED})


def note(change: Change, row: Row | None, now: datetime) -> str | None:
    """The ledger's word on `change` given its row (None: never recorded), or None."""
    if row is None:
        return None
    what = set(change.what)
    gone = bool(what & {What.REMOVED, What.TARGET_REMOVED, What.DISABLED})
    state = row.state
    if state is State.SENT:
        if What.RETIMED in what:
            return "moved after it was sent: will not be sent again"
        if gone:
            return "already sent: removing it does not delete the post"
        if what & {What.ADDED, What.TARGET_ADDED}:
            return "already sent under this key: will not be sent again"
        return "already sent: this edit changes nothing on the network"
    if state in (State.UNKNOWN, State.SENDING):
        return f"{state}: may have been sent; settle it with `pushcal resolve` first"
    if state is State.MISSED:
        if change.after is not None and change.after.occurrence.due > now and not gone:
            return ("was missed; the new time is in the future, but a missed delivery is "
                    "only sent again by `pushcal send --force`")
        return "was missed"
    if state is State.FAILED:
        return f"failed ({row.info or 'no reason given'}): only `pushcal send --force` sends it again"
    if gone:
        return "not sent yet: will not be sent"
    if state is State.CANCELLED:
        return "was cancelled: will be sent at its time"
    if state is State.RETRY_WAIT and what & _EDITS:
        return "waiting to retry: the retry sends the new version"
    return None
