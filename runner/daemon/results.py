"""The final word on asynchronous uploads: a callback concludes an `accepted` row, or the
wait for one ends and the row becomes `unknown`.

`Results.callback` judges one POST to the callback receiver: its token must be the one
issued for that delivery (else 403, forged), the row must still be `accepted` (else 409, a
replay), and its envelope gives the final id (sent, with the location) or the failure. A
callback that beats the daemon's own record of the queued answer waits a moment for it.
`Results.sweep` ends waits older than `timeout`: `unknown`, for a person to check, never
uploaded again. Each conclusion is logged as `concluded`, which alerts and metrics follow.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runner.clock import duration_text
from runner.daemon.events import EventLog
from runner.delivery.callbacks import claim_of, genuine
from runner.ledger import Ledger, Row, State
from runner.oneall.endpoints import ENDPOINTS, location_of

DEFAULT_TIMEOUT = timedelta(hours=24)
EARLY_WAIT = 5.0  # real seconds a callback waits for its queued answer to be recorded


@dataclass(frozen=True)
class Verdict:
    """What the receiver answers: an HTTP status and a one-line reason."""

    status: int
    text: str


class Results:
    """Concludes `accepted` rows from callbacks and from the passing of time."""

    def __init__(self, ledger: Ledger, log: EventLog, *, clock: Callable[[], datetime],
                 timeout: timedelta = DEFAULT_TIMEOUT) -> None:
        self._ledger, self._log, self._clock, self.timeout = ledger, log, clock, timeout

    def callback(self, query: str, body: bytes) -> Verdict:
        """Judge one callback and, when genuine and awaited, record its result."""
        claim = claim_of(query)
        row = None if claim is None else self._ledger.get(claim.key, claim.account)
        if claim is None or row is None or not genuine(row, claim.token):
            self._log("callback-refused", key=claim and claim.key,
                      account=claim and claim.account, reason="no delivery has this token")
            return Verdict(403, "forged or unknown callback")
        row = self._settled(row)
        if row.state is not State.ACCEPTED:
            self._log("callback-refused", key=row.key, account=row.account,
                      reason=f"replayed: the delivery is already {row.state}")
            return Verdict(409 if row.state is not State.SENDING else 503, f"already {row.state}")
        try:
            state, info, remote_id, location = _outcome(row, json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError):
            self._log("callback-refused", key=row.key, account=row.account,
                      reason="not a OneAll envelope")
            return Verdict(400, "not a OneAll envelope")
        return self._conclude(row, state, info, remote_id, location)

    def sweep(self) -> int:
        """Give up on results older than `timeout`: such rows become `unknown`."""
        cutoff = self._clock() - self.timeout
        ended = 0
        for row in self._ledger.rows(states=[State.ACCEPTED]):
            if row.finished is not None and row.finished <= cutoff:
                info = (f"no result from OneAll within {duration_text(self.timeout)} of "
                        "being accepted: look for the video on the network, then pushcal "
                        "resolve --sent or --not-sent")
                ended += self._conclude(row, State.UNKNOWN, info, None, None).status == 200
        return ended

    def _settled(self, row: Row) -> Row:
        """The row once it has left `sending` (its queued answer recorded), or as it is."""
        deadline = time.monotonic() + EARLY_WAIT
        while row.state is State.SENDING and time.monotonic() < deadline:
            time.sleep(0.02)
            row = self._ledger.get(row.key, row.account) or row
        return row

    def _conclude(self, row: Row, state: State, info: str, remote_id: str | None,
                  location: str | None) -> Verdict:
        done = self._ledger.conclude(row.key, row.account, state, info=info,
                                     remote_id=remote_id, location=location)
        if done is None:  # a second callback concluded it meanwhile
            return Verdict(409, "already concluded")
        self._log("concluded", entry=done.entry, account=done.account, key=done.key,
                  endpoint=done.endpoint, state=str(done.state), remote_id=done.remote_id,
                  location=done.location, info=None if state is State.SENT else info)
        return Verdict(200, f"recorded {done.state}")


def _outcome(row: Row, document: Any) -> tuple[State, str, str | None, str | None]:
    """(state, info, remote id, location) from a callback's OneAll envelope."""
    response = document["response"]
    status = response["request"]["status"]
    data = (response.get("result") or {}).get("data") or {}
    endpoint = ENDPOINTS[row.endpoint]
    remote = data.get(endpoint.id_field)
    said = f"OneAll's callback: {status.get('code')} {status.get('info', '')}".rstrip()
    if status.get("flag") != "success" or not remote:
        return State.FAILED, said, None, None
    place = data.get(endpoint.location_field) if endpoint.location_field else None
    return State.SENT, said, str(remote), str(place or location_of(endpoint, str(remote)))
