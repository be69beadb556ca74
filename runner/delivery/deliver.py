"""Deliver one occurrence: claim it, send its requests in order, record its state.

The daemon and `pushcal send` both deliver through `deliver`, so the ledger's claim stands
between every path and the network: whoever claims first sends; nobody sends unclaimed.
Upload ids are recorded as they come back, so retrying a post never uploads twice. Only
answers that provably did not reach OneAll are retried, later, as `retry_wait`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from runner.calendar.expansion import Occurrence
from runner.calendar.model import Calendar
from runner.delivery.callbacks import CallbackUrls
from runner.delivery.retry import backoff, retry_deadline
from runner.ledger import CALLBACK_STEP, ClaimRequest, Ledger, Row, State
from runner.oneall.endpoints import ENDPOINTS
from runner.oneall.render import PUBLISH, fill, render
from runner.oneall.wire import Reply, Request, Verdict

Clock = Callable[[], datetime]
EXPIRY_MARGIN = 3600.0  # seconds: an upload this close to expiring is made again
NO_BASE = CallbackUrls()  # callback tokens only where the calendar gives a callback_url


class Sender(Protocol):
    async def send(self, method: str, path: str, body: Mapping[str, Any] | None, *,
                   lane: str = "") -> Reply: ...


@dataclass(frozen=True)
class Delivery:
    """What happened to one occurrence: its row after the attempt, and the endpoint used."""

    occurrence: Occurrence
    row: Row
    endpoint: str


def claim_request(cal: Calendar, occ: Occurrence, *, commit: str | None = None,
                  force: bool = False) -> tuple[list[Request], ClaimRequest]:
    """The rendered requests of an occurrence, and the claim that must precede them."""
    entry = cal.entries[occ.entry]
    requests = render(cal, entry, cal.accounts[occ.account])
    claim = ClaimRequest(occ.key, occ.entry, occ.account, occ.due, requests[-1].endpoint,
                         entry.digest, commit, force)
    return requests, claim


async def deliver(cal: Calendar, occ: Occurrence, *, ledger: Ledger, client: Sender,
                  clock: Clock, commit: str | None = None, force: bool = False,
                  rng: random.Random | None = None, claimed: Row | None = None,
                  requests: list[Request] | None = None,
                  callbacks: CallbackUrls = NO_BASE) -> Delivery | None:
    """Claim and send one occurrence; None if someone else has it or it is done.

    `claimed` is a row the caller already claimed (the daemon claims a batch at once), and
    `requests` what it rendered for that claim, so a burst renders each post once;
    `callbacks` says where asynchronous uploads' results are to be posted."""
    if claimed is not None and requests is not None:
        row: Row | None = claimed
    else:
        requests, claim = claim_request(cal, occ, commit=commit, force=force)
        row = claimed or ledger.claim(claim)
    if row is None:
        return None
    try:
        final = await _send_all(requests, row, ledger, client, clock(), callbacks)
    except BaseException as error:
        # Whatever stopped us (a shutdown, a bug), a request may be on the wire: the claim
        # must not stay `sending`, and it must never be retried by itself.
        what = ("interrupted" if isinstance(error, asyncio.CancelledError)
                else f"internal error {error!r:.200}")
        ledger.finish(occ.key, occ.account, State.UNKNOWN,
                      info=f"{what} while sending: the request may have been acted on")
        raise
    # Recorded in a thread (both ledgers serialise their connection with a mutex): its
    # commit waits for the disk, and in a burst that wait must not hold up the event loop,
    # where the other accounts' requests are still going out. Shielded: once sent, the
    # answer is recorded even if the caller is cancelled meanwhile.
    recording = asyncio.ensure_future(
        asyncio.to_thread(_record, final, row, occ, ledger, clock, rng))
    return Delivery(occ, await asyncio.shield(recording), requests[-1].endpoint)


def reusable(request: Request, row: Row, now: datetime) -> bool:
    """Whether an upload recorded in an earlier attempt can still be attached. Uploads
    that expire unattached (Twitter pictures, 24 h) are not trusted once the delivery is
    a day past its time: they happened at or after it, and uploading again posts nothing."""
    if request.step not in row.steps:
        return False
    expires = ENDPOINTS[request.endpoint].expires_after_s
    return expires is None or (now - row.scheduled).total_seconds() < expires - EXPIRY_MARGIN


async def _send_all(requests: list[Request], row: Row, ledger: Ledger, client: Sender,
                    now: datetime, callbacks: CallbackUrls) -> tuple[Request, Reply]:
    results = {req.step: {req.result_field: row.steps[req.step]}
               for req in requests if reusable(req, row, now)}
    for request in requests:
        if request.step in results:
            continue  # uploaded in an earlier attempt
        body = fill(request.body, results)
        if request.asynchronous:
            _with_callback(request, body, row, ledger, callbacks)
        reply = await client.send(request.method, request.path, body, lane=row.account)
        if request.step == PUBLISH or reply.verdict is not Verdict.SENT:
            return request, reply
        remote = reply.data.get(request.result_field)
        if remote is None:
            # `_record` names the step; the message must not name it twice.
            return request, Reply(Verdict.FAILED, reply.status,
                                    f"OneAll answered without {request.result_field}")
        ledger.record_step(row.key, row.account, request.step, remote)
        results[request.step] = {request.result_field: remote}
    raise AssertionError("requests end with the publish step")


def _with_callback(request: Request, body: dict[str, Any], row: Row, ledger: Ledger,
                   callbacks: CallbackUrls) -> None:
    """Put this delivery's own callback URL in `body`, its token's digest recorded first, so
    a callback that arrives at once is already recognised."""
    endpoint = ENDPOINTS[request.endpoint]
    fields = endpoint.fields_of(body)
    assert endpoint.callback_field is not None
    issued = callbacks.issue(row.key, row.account, fields.get(endpoint.callback_field))
    if issued is not None:
        url, kept = issued
        ledger.record_step(row.key, row.account, CALLBACK_STEP, kept)
        fields[endpoint.callback_field] = url


def _record(final: tuple[Request, Reply], row: Row, occ: Occurrence, ledger: Ledger,
            clock: Clock, rng: random.Random | None) -> Row:
    request, reply = final
    where = "" if request.step == PUBLISH else f"{request.step}: "
    info = where + reply.info
    if reply.verdict is Verdict.SENT:
        endpoint = ENDPOINTS[request.endpoint]
        if endpoint.asynchronous and endpoint.id_field not in reply.data:
            # Only queued: the result comes later (a callback), and it is never sent again.
            return ledger.finish(occ.key, occ.account, State.ACCEPTED, http_status=reply.status,
                                 info=f"accepted by OneAll, waiting for the result: {info}")
        location = endpoint.location_field
        return ledger.finish(occ.key, occ.account, State.SENT, info=info,
                             http_status=reply.status,
                             remote_id=reply.data.get(endpoint.id_field),
                             location=reply.data.get(location) if location else None)
    if reply.verdict is Verdict.RETRY:
        return _retry_or_fail(occ, row, reply, info, ledger, clock, rng)
    state = State.FAILED if reply.verdict is Verdict.FAILED else State.UNKNOWN
    return ledger.finish(occ.key, occ.account, state, info=info, http_status=reply.status)


def _retry_or_fail(occ: Occurrence, row: Row, reply: Reply, info: str, ledger: Ledger,
                   clock: Clock, rng: random.Random | None) -> Row:
    grace = occ.grace
    delay = backoff(row.attempts, reply.retry_after, rng or random.Random())
    when = clock() + timedelta(seconds=delay)
    if when > retry_deadline(occ, grace):
        return ledger.finish(occ.key, occ.account, State.FAILED, http_status=reply.status,
                             info=f"gave up after {row.attempts} attempts: {info}")
    return ledger.finish(occ.key, occ.account, State.RETRY_WAIT, info=info,
                         http_status=reply.status, next_attempt=when)
