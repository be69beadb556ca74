"""Answering one authenticated push request: route, identity, body, creation, result.

The checks run in OneAll's order as far as it can be seen from outside: the resource and the
identity first (404), then the body (400), then what the body refers to (attachments, 400).
Only a request that passes them all creates an object. The HTTP layer around this adds
authentication, latency and faults; this module never touches a socket.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.oneall.endpoints import QUEUED_RESULT, Endpoint
from runner.sandbox.callback import deliver_later
from runner.sandbox.check import check_fields, parse_json, unwrap
from runner.sandbox.envelope import Refused, envelope
from runner.sandbox.routes import match_push
from runner.sandbox.world import Stored, World, object_kind

_IDENTITY_IN_PATH = re.compile(r"/(?:push|pull)/identities/([^/]+)/")


@dataclass(frozen=True)
class Answer:
    """What to send back (unless a fault swallows it) and what it did."""

    status: int
    document: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    created: str | None = None
    duplicate_of: int | None = None
    callback: str | None = None


@dataclass(frozen=True)
class PushContext:
    """What answering needs from the sandbox: its state, clock and stop signal."""

    world: World
    clock: Callable[[], float]
    stopping: threading.Event


def answer_push(ctx: PushContext, seq: int, path: str, content_type: str | None,
                raw: bytes) -> Answer:
    """Process one push request that passed authentication."""
    try:
        return _create(ctx, seq, path, content_type, raw)
    except Refused as refusal:
        return refused(ctx.clock, path, refusal)


def refused(clock: Callable[[], float], path: str, refusal: Refused) -> Answer:
    """The error envelope for a refusal."""
    document = envelope(resource=path, code=refusal.status, info=refusal.info, now=clock())
    return Answer(refusal.status, document, refusal.headers)


def describe(path: str, raw: bytes) -> tuple[str | None, str | None, Any]:
    """(endpoint key, identity, body) of a push request for the record, even a refused one."""
    found = _IDENTITY_IN_PATH.match(path)
    try:
        key: str | None = match_push(path)[0].key
    except Refused:
        key = None
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", errors="replace")
    return key, (found.group(1) if found else None), body


def _create(ctx: PushContext, seq: int, path: str, content_type: str | None,
            raw: bytes) -> Answer:
    endpoint, route = match_push(path)
    ctx.world.bind(route.identity, endpoint.provider)
    document = parse_json(content_type, raw)
    fields = unwrap(endpoint, document)
    check_fields(endpoint, fields)
    stored, duplicate_of = ctx.world.create(seq, endpoint, route.identity, route.params,
                                            document, fields)
    if endpoint.asynchronous:
        data = {"provider": endpoint.provider, "object": object_kind(endpoint), **QUEUED_RESULT}
        info, callback = "The upload has been queued", _callback(ctx, path, stored)
    else:
        data, info, callback = result_data(stored), "The request has been processed", None
    document_out = envelope(resource=path, code=200, info=info, now=ctx.clock(), data=data)
    return Answer(200, document_out, created=stored.object_id, duplicate_of=duplicate_of,
                  callback=callback)


def result_data(stored: Stored) -> dict[str, str]:
    """`result.data`: provider, object, and the table's result fields (id, location)."""
    endpoint: Endpoint = stored.endpoint
    data = {"provider": endpoint.provider, "object": object_kind(endpoint),
            endpoint.id_field: stored.object_id}
    if endpoint.location_field:
        data[endpoint.location_field] = stored.location
    return data


def _callback(ctx: PushContext, path: str, stored: Stored) -> str | None:
    name = stored.endpoint.callback_field
    url = stored.fields.get(name) if name else None
    if not isinstance(url, str):
        return None
    final = envelope(resource=path, code=200, info="The upload has been completed",
                     now=ctx.clock(), data=result_data(stored))
    return deliver_later(url, final, lambda outcome: ctx.world.note_callback(stored.seq, outcome),
                         ctx.stopping)
